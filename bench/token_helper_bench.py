"""Benchmark of the vault/bao CLI token helper, each figure beside its baseline. Prints only.

    .venv/bin/python bench/token_helper_bench.py [--runs 40] [--renewer PATH]

The CLI runs the helper's ``get`` before every command (issue 18), so its cost
is added to every ``vault kv get``. Measured in one run, interleaved with the
baseline so both see the same machine load:

1. ``<helper> get`` (the script ``renewer token-helper install`` writes) beside
   ``python -c pass`` with the same interpreter: wall median and p95, the
   ratio (target <= 1.5x), and the modules it imports beyond the baseline's;
   ``renewer token-helper get`` (the full CLI) for comparison.
2. ``<helper> store`` of a login while the sink holds a healthy token of ours
   (lock, two lookups, the login kept, the state recorded), against the dev
   server in its own process: what a login waits for.

Every process is started with ``subprocess`` and timed around its whole life
(fork, exec, interpreter start, work, exit), the subject and its baseline alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devserver as server_bench

CONFIG = """\
version: 1
vault: {{addr: "http://127.0.0.1:{port}"}}
state_dir: {home}/.local/state/renewer
tokens:
  - name: devvm
    path: {home}/.vault-token
    expect: {{display_name: token-bench-devvm, policies: [bench-admin]}}
    mint: {{display_name: bench-devvm, policies: [bench-admin], period: 768h}}
"""
ADMIN_POLICY = 'path "auth/token/*" { capabilities = ["create", "read", "update", "sudo"] }'


def wall(argv: list[str], env: dict[str, str], stdin: str = "") -> float:
    """Milliseconds from start to exit of one process; it must succeed."""
    started = time.perf_counter()
    completed = subprocess.run(
        argv, input=stdin.encode(), env=env, capture_output=True, timeout=120, check=False
    )
    elapsed = (time.perf_counter() - started) * 1000
    if completed.returncode != 0:
        raise SystemExit(f"{argv[0]} exited {completed.returncode}: {completed.stderr[-500:]!r}")
    return elapsed


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[
        min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    ]


def row(label: str, value: float, baseline: float | None = None, target: str = "") -> None:
    text = f"  {label:<44} {value:>8.1f} ms"
    if baseline:
        text += f"  baseline {baseline:>7.1f}  ratio {value / baseline:5.2f}"
    if target:
        text += f"  target {target}"
    print(text, flush=True)


def imported(python: str, argv: list[str], env: dict[str, str]) -> set[str]:
    completed = subprocess.run(
        [python, "-I", "-X", "importtime", *argv],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return {
        line.rsplit("|", 1)[1].strip()
        for line in completed.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.runs = args.runs
        self.renewer = args.renewer
        self.python = str(Path(self.renewer).parent / "python")
        self.home = Path(tempfile.mkdtemp(prefix="renewer-helper-bench-"))
        self.env = {
            "HOME": str(self.home),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
        }
        self.port = server_bench.free_port()
        self.server = server_bench.start_server(self.port)
        self.raw = server_bench.Raw(self.port, server_bench.ROOT)
        self.helper = self.home / ".local" / "share" / "renewer" / "token-helper"

    def close(self) -> None:
        server_bench.stop_server(self.server)
        shutil.rmtree(self.home, ignore_errors=True)

    def create(self, **body: object) -> str:
        token: str = json.loads(self.raw.call("POST", "auth/token/create", body))["auth"][
            "client_token"
        ]
        return token

    def setup(self) -> None:
        self.raw.call("PUT", "sys/policies/acl/bench-admin", {"policy": ADMIN_POLICY})
        config = self.home / "config.yaml"
        config.write_text(CONFIG.format(port=self.port, home=self.home))
        ours = self.create(
            policies=["bench-admin"], period="768h", display_name="bench-devvm", no_parent=True
        )
        sink = self.home / ".vault-token"
        sink.write_text(ours)
        sink.chmod(0o600)
        wall(
            [self.renewer, "--config", str(config), "token-helper", "install", "--cli", "vault"],
            self.env,
        )
        self.config = config

    def get(self) -> None:
        print(f"\n1. the CLI's get, before every vault/bao command ({self.runs} runs each)")
        bare: list[float] = []
        got: list[float] = []
        for _ in range(self.runs):  # interleaved: both see the same load
            bare.append(wall([self.python, "-c", "pass"], self.env))
            got.append(wall([str(self.helper), "get"], self.env))
        full = [
            wall([self.renewer, "--config", str(self.config), "token-helper", "get"], self.env)
            for _ in range(max(3, self.runs // 4))
        ]
        bare_median, bare_p95 = summary(bare)
        got_median, got_p95 = summary(got)
        row("python -c pass (median)", bare_median)
        row("helper get (median)", got_median, bare_median, "<= 1.5x")
        row("helper get (p95)", got_p95, bare_p95)
        row("renewer token-helper get, full CLI (median)", summary(full)[0], bare_median)
        extra = imported(self.python, [str(self.helper), "get"], self.env) - imported(
            self.python, ["-c", "pass"], self.env
        )
        print(f"  get imports beyond python -c pass: {', '.join(sorted(extra))}")

    def store(self) -> None:
        runs = max(3, self.runs // 4)
        print(f"\n2. the CLI's store at a login, sink healthy: kept, nothing minted ({runs} runs)")
        bare = [wall([self.python, "-c", "pass"], self.env) for _ in range(runs)]
        stored = []
        for _ in range(runs):
            login = self.create(policies=["bench-admin"], ttl="1h", display_name="oidc-bench")
            env = {**self.env, "VAULT_ADDR": f"http://127.0.0.1:{self.port}"}
            stored.append(wall([str(self.helper), "store"], env, stdin=login))
        row("python -c pass (median)", summary(bare)[0])
        row("helper store (median)", summary(stored)[0], summary(bare)[0])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=40)
    default = Path(sys.executable).parent / "renewer"
    parser.add_argument("--renewer", default=str(default), help="the renewer executable to measure")
    args = parser.parse_args()
    bench = Bench(args)
    print(f"token helper bench: {args.renewer}, {os.cpu_count()} CPUs")
    try:
        bench.setup()
        bench.get()
        bench.store()
    finally:
        bench.close()


if __name__ == "__main__":
    main()
