"""Measuring child processes and printing figures: shared by the benches in this directory.

Children are started by a small launcher, not by the bench itself: Linux carries
a process's peak RSS across fork and exec, so a child forked from the bench (tens
of MiB of imports and token lists) would report the bench's peak as its own. The
launcher (``python -S``, a few MiB) stays below any measured child.
"""

from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys

LAUNCHER = r"""
import json, os, sys, time
for line in sys.stdin:
    argv, env = json.loads(line)
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 1)
        os.dup2(null, 2)
        try:
            os.execvpe(argv[0], argv, env if env is not None else os.environ)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    print(json.dumps([wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)]), flush=True)
"""


@functools.cache
def launcher() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-S", "-c", LAUNCHER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def measure(argv: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit code) of one child process, started by the launcher."""
    process = launcher()
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(json.dumps([argv, env]) + "\n")
    process.stdin.flush()
    wall, peak, code = json.loads(process.stdout.readline())
    return wall, peak, code


def series(argv: list[str], runs: int, env: dict[str, str] | None = None) -> dict[str, float]:
    walls, peaks = [], []
    for _ in range(runs):
        wall, peak, _ = measure(argv, env=env)
        walls.append(wall * 1000)
        peaks.append(peak)
    walls.sort()
    return {
        "median": statistics.median(walls),
        "p95": walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))],
        "rss": max(peaks),
    }


def row(
    label: str, value: float, unit: str, *, baseline: float | None = None, target: str = ""
) -> None:
    text = f"  {label:<46} {value:>10.1f} {unit:<5}"
    if baseline:
        text += f"  baseline {baseline:>8.1f}  ratio {value / baseline:6.2f}"
    if target:
        text += f"  target {target}"
    print(text, flush=True)
