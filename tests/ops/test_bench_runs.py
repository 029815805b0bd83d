"""The benchmark still runs (issue #9): one tiny pass, checked for shape, never for speed.

Speed is the bench's business and is reported, not asserted; this only keeps
`bench/renewer_bench.py` from rotting unnoticed, and checks what is not a
timing: the request count of a happy run, the lazy imports, and that peak RSS
is measured per child (a child forked by the bench itself inherited the
bench's own peak and every figure came out equal).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def mib(output: str, label: str) -> float:
    found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+) MiB", output, re.MULTILINE)
    assert found, f"no {label!r} row in:\n{output}"
    return float(found.group(1))


def test_a_tiny_bench_run_reports_every_section() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "renewer_bench.py"),
            *("--runs", "2", "--foreign", "10", "--scan", "80", "--seed-sample", "2"),
            *("--bao-foreign", "3", "--bao-stale", "2"),
            "--renewer",
            str(Path(sys.executable).parent / "renewer"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = completed.stdout

    assert completed.returncode == 0, completed.stderr[-2000:]
    for section in ("1. startup", "2. renewer run", "3. heal + sweep", "4. full scan"):
        assert section in out
    assert "5. heal + sweep on OpenBao" in out
    assert re.search(r"seed loop with bao: wall for all \d+ accessors", out), out
    assert "speed-up over the seed loop run for real" in out
    assert "Vault requests per run: [2]" in out
    assert out.count("imports hvac/requests: no") == 2
    assert mib(out, "renewer --help peak RSS") < mib(out, "peak RSS"), out


def test_a_tiny_token_helper_bench_run_reports_both_sections() -> None:
    """Shape only: both sections print, and get imports nothing but its own module."""
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "token_helper_bench.py"),
            *("--runs", "2"),
            "--renewer",
            str(Path(sys.executable).parent / "renewer"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = completed.stdout

    assert completed.returncode == 0, completed.stderr[-2000:]
    for section in ("1. the CLI's get", "2. the CLI's store"):
        assert section in out
    assert re.search(r"helper get \(median\).*ratio\s+[\d.]+\s+target <= 1.5x", out), out
    imports = re.search(r"get imports beyond python -c pass: (.*)$", out, re.MULTILINE)
    assert imports is not None, out
    assert set(imports.group(1).split(", ")) <= {
        "__future__",
        "renewer",
        "renewer.tokens",
        "renewer.tokens.helper_entry",
    }
