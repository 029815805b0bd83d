"""Benchmark of renewer itself, in one run, each figure beside its baseline. Prints; never asserts.

    .venv/bin/python bench/renewer_bench.py [--runs 20] [--foreign 10000] [--scan 100000]
                                            [--seed-sample 1000] [--bao-foreign 300]
                                            [--bao-stale 50] [--renewer PATH]

Starts the dev server in its own process and measures (issue #9):

1. ``renewer --help`` and ``status --brief``: wall median/p95 and peak RSS over
   ``--runs`` processes, beside ``python -c pass`` and ``python -c 'import hvac'``;
   whether they import hvac/requests (they must not); whether the package's
   bytecode is compiled (a cold cache costs ~700 ms a run).
2. ``renewer run`` on the happy path (one healthy token): wall median/p95, peak
   RSS, and Vault requests per run from the dev server's counters (must be 2).
3. A heal with ``--foreign`` foreign tokens and 50 stale tokens of ours: the
   ledger sweep, the full scan, and the seed's loop (one ``curl`` + ``jq``
   process per accessor, as the bash renewer did with the vault CLI; timed on
   ``--seed-sample`` accessors and extrapolated, which the output says).
4. A full scan (``renewer sweep --full --dry-run``) of ``--scan`` accessors at
   the configured concurrency: wall, peak RSS, lookups/s, beside the dev
   server's own saturation rate for lookup-accessor measured in the same run.
5. Section 3 on a real OpenBao (``bao server -dev``) with ``--bao-foreign``
   foreign and ``--bao-stale`` stale tokens, and the seed's loop run for real
   with the ``bao`` CLI over every accessor (``bench/openbao_sweep.py``): the
   ratio measured, not extrapolated.

Targets from the issue are printed next to each figure; the script reports,
it does not judge.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devserver as server_bench
import openbao_sweep
from measuring import measure, row, series

from renewer.devserver.controls_client import DevControls

ROOT = server_bench.ROOT
STALE = 50
DISPLAY = "bench-devvm"
OURS = f"token-{DISPLAY}"
ADMIN_POLICY = (
    'path "auth/token/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }'
)
CONFIG = """\
version: 1
vault:
  addr: http://127.0.0.1:{port}
  read_timeout: 30s
state_dir: {home}/state
run:
  deadline: 900s
  sweep_concurrency: {concurrency}
  sweep_max_accessors: 1000000
tokens:
  - name: devvm
    path: {home}/.vault-token
    expect: {{display_name: {ours}, policies: [bench-admin]}}
    mint: {{display_name: {display}, policies: [bench-admin], period: 768h}}
    sweep: {sweep}
"""
SEED_LOOP = r"""
set -eu
keys=$(curl -s -X LIST -H "X-Vault-Token: $TOKEN" "$ADDR/v1/auth/token/accessors" \
  | jq -r '.data.keys[]' | head -n "$LIMIT")
for a in $keys; do
  curl -s -X POST -H "X-Vault-Token: $TOKEN" -d "{\"accessor\":\"$a\"}" \
      "$ADDR/v1/auth/token/lookup-accessor" \
    | jq -r "select(.data.display_name==\"$OURS\") | .data.accessor" >/dev/null
done
"""


def imports_of(python: str, argv: list[str], env: dict[str, str]) -> set[str]:
    """Top-level modules a command imports (via -X importtime)."""
    completed = subprocess.run(
        [python, "-X", "importtime", *argv], env=env, capture_output=True, text=True, check=False
    )
    names = set()
    for line in completed.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def bytecode_compiled(python: str) -> tuple[int, int]:
    """(compiled, total) modules of the renewer package that python imports."""
    code = (
        "import importlib.util, pathlib, renewer; root = pathlib.Path(renewer.__file__).parent; "
        "files = list(root.rglob('*.py')); "
        "cached = [importlib.util.cache_from_source(str(f)) for f in files]; "
        "print(sum(pathlib.Path(c).exists() for c in cached), len(files))"
    )
    out = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1])


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.renewer = args.renewer
        self.python = str(Path(self.renewer).resolve().parent / "python")
        self.port = server_bench.free_port()
        self.home = Path(tempfile.mkdtemp(prefix="renewer-bench-"))
        self.env = {**os.environ, "HOME": str(self.home)}
        self.env.pop("VAULT_TOKEN", None)
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # installed renewers run with bytecode
        self.server = server_bench.start_server(self.port, dev_controls=True)
        self.raw = server_bench.Raw(self.port, ROOT)
        self.controls = DevControls(f"http://127.0.0.1:{self.port}")

    def close(self) -> None:
        self.controls.close()
        server_bench.stop_server(self.server)
        shutil.rmtree(self.home, ignore_errors=True)

    # --- setup helpers ----------------------------------------------------------------------

    def configure(self, sweep: str, concurrency: int = 8) -> Path:
        path = self.home / "config.yaml"
        path.write_text(
            CONFIG.format(
                port=self.port,
                home=self.home,
                ours=OURS,
                display=DISPLAY,
                sweep=sweep,
                concurrency=concurrency,
            )
        )
        return path

    def create(self, **body: Any) -> dict[str, Any]:
        auth: dict[str, Any] = json.loads(self.raw.call("POST", "auth/token/create", body))["auth"]
        return auth

    def ours(self) -> dict[str, Any]:
        return self.create(
            policies=["bench-admin"], period="768h", display_name=DISPLAY, no_parent=True
        )

    def write_token(self, token: str) -> None:
        sink = self.home / ".vault-token"
        sink.write_text(token)
        sink.chmod(0o600)

    def counters(self) -> int:
        return sum(self.controls.counters().values())

    def reset_counters(self) -> None:
        self.controls.reset_counters()

    def renewer_argv(self, config: Path, *args: str) -> list[str]:
        return [self.renewer, "--config", str(config), "--log-format", "json", *args]

    # --- the four figures -------------------------------------------------------------------

    def startup(self) -> None:
        runs = self.args.runs
        print(f"\n1. startup ({runs} runs each; ms)")
        bare = series([self.python, "-c", "pass"], runs, self.env)
        hvac = series([self.python, "-c", "import hvac"], runs, self.env)
        row("python -c pass (median)", bare["median"], "ms")
        row("python -c 'import hvac' (median)", hvac["median"], "ms", baseline=bare["median"])
        config = self.configure("on-heal")
        for label, argv, target in (
            ("renewer --help", [self.renewer, "--help"], "<= 120 ms"),
            (
                "renewer status --brief",
                [self.renewer, "--config", str(config), "status", "--brief"],
                "",
            ),
        ):
            figures = series(argv, runs, self.env)
            row(f"{label} median", figures["median"], "ms", baseline=bare["median"], target=target)
            row(f"{label} p95", figures["p95"], "ms", baseline=bare["p95"])
            row(f"{label} peak RSS", figures["rss"], "MiB", baseline=bare["rss"])
            heavy = imports_of(self.python, ["-m", "renewer", *argv[1:]], self.env) & {
                "hvac",
                "requests",
            }
            print(
                f"  {label} imports hvac/requests: {', '.join(sorted(heavy)) or 'no'} (target: no)"
            )
        compiled, total = bytecode_compiled(self.python)
        print(f"  bytecode: {compiled}/{total} renewer modules compiled (install.sh compiles them)")

    def happy_run(self) -> None:
        runs = self.args.runs
        print(f"\n2. renewer run, happy path, one token ({runs} runs)")
        self.raw.call("PUT", "sys/policies/acl/bench-admin", {"policy": ADMIN_POLICY})
        self.write_token(self.ours()["client_token"])
        config = self.configure("on-heal")
        measure(self.renewer_argv(config, "run"), env=self.env)  # warm the state dir
        walls, peaks, requests_per_run = [], [], []
        for _ in range(runs):
            self.reset_counters()
            wall, peak, code = measure(self.renewer_argv(config, "run"), env=self.env)
            if code != 0:
                raise SystemExit(f"renewer run exited {code}")
            walls.append(wall * 1000)
            peaks.append(peak)
            requests_per_run.append(self.counters())
        bare = series([self.python, "-c", "pass"], runs, self.env)
        walls.sort()
        row(
            "wall median",
            statistics.median(walls),
            "ms",
            baseline=bare["median"],
            target="<= 300 ms",
        )
        row("wall p95", walls[round(0.95 * (len(walls) - 1))], "ms", target="<= 600 ms")
        row("peak RSS", max(peaks), "MiB", baseline=bare["rss"], target="<= 64 MiB")
        print(f"  Vault requests per run: {sorted(set(requests_per_run))} (target: exactly 2)")

    def heal(self, sweep: str, stale: list[dict[str, Any]]) -> tuple[float, int]:
        """Clobber with an admin token, run once; (wall s, requests)."""
        config = self.configure(sweep)
        current = self.ours()
        state = self.home / "state"
        state.mkdir(exist_ok=True)
        superseded = [token["accessor"] for token in stale] if sweep == "ledger" else []
        ledger = {
            "version": 1,
            "sinks": {"devvm": {"current": current["accessor"], "superseded": superseded}},
        }
        (state / "ledger.json").write_text(json.dumps(ledger))
        admin = self.create(
            policies=["bench-admin"], ttl="168h", display_name="oidc-bench", no_parent=True
        )
        self.write_token(admin["client_token"])
        self.reset_counters()
        wall, _, code = measure(self.renewer_argv(config, "run"), env=self.env)
        if code != 0:
            raise SystemExit(f"heal run exited {code}")
        return wall, self.counters()

    def sweeps(self) -> None:
        foreign = self.args.foreign
        print(f"\n3. heal + sweep: {foreign} foreign tokens, {STALE} stale of ours")
        created = server_bench.create_tokens(self.port, foreign)
        print(f"  (setup: created {foreign} foreign tokens in {created:.1f} s)")
        stale = [self.ours() for _ in range(STALE)]
        ledger_wall, ledger_requests = self.heal("ledger", stale)
        stale = [self.ours() for _ in range(STALE)]
        full_wall, full_requests = self.heal("on-heal", stale)
        sample = min(self.args.seed_sample, foreign)
        seed_wall = self.seed_loop(sample)
        listed = foreign + STALE + 4
        seed_total = seed_wall / sample * listed
        row("ledger sweep: wall", ledger_wall, "s")
        row("ledger sweep: requests", ledger_requests, "req", target=f"<= stale+3 = {STALE + 3}")
        row("full scan: wall", full_wall, "s", baseline=seed_total)
        row("full scan: requests", full_requests, "req")
        row(f"seed loop: wall for {sample} accessors", seed_wall, "s")
        row(f"seed loop: extrapolated to {listed}", seed_total, "s")
        print(
            f"  full scan speed-up over the seed loop: {seed_total / full_wall:.1f}x (target 20x)"
        )

    def seed_loop(self, limit: int) -> float:
        if not (shutil.which("curl") and shutil.which("jq")):
            print("  seed loop: curl or jq missing; skipped")
            return float("nan")
        env = {
            **self.env,
            "TOKEN": ROOT,
            "ADDR": f"http://127.0.0.1:{self.port}",
            "LIMIT": str(limit),
            "OURS": OURS,
        }
        started = time.perf_counter()
        subprocess.run(["sh", "-c", SEED_LOOP], env=env, check=True)
        return time.perf_counter() - started

    def scan(self) -> None:
        target = self.args.scan
        print(f"\n4. full scan of {target} accessors (renewer sweep --full --dry-run)")
        have = self.controls.live_token_count()
        if target > have:
            created = server_bench.create_tokens(self.port, target - have)
            print(f"  (setup: created {target - have} more tokens in {created:.1f} s)")
        self.write_token(self.ours()["client_token"])
        for concurrency in (8,):
            config = self.configure("ledger", concurrency=concurrency)
            self.reset_counters()
            wall, peak, code = measure(
                self.renewer_argv(config, "sweep", "devvm", "--full", "--dry-run"), env=self.env
            )
            lookups = self.controls.counters().get("auth/token/lookup-accessor", 0)
            row(f"concurrency {concurrency}: wall", wall, "s")
            row(f"concurrency {concurrency}: peak RSS", peak, "MiB", target="<= 100 MiB")
            row(f"concurrency {concurrency}: lookups/s", lookups / wall, "/s")
            print(f"  exit {code}, {lookups} lookups")
        saturation = self.saturation()
        row("dev server saturation (lookup-accessor)", saturation, "/s")
        row(
            "renewer scan rate / saturation",
            100 * (lookups / wall) / saturation,
            "%",
            target=">= 70 %",
        )

    def saturation(self) -> float:
        """The dev server's own lookup-accessor rate: 2 processes x 4 raw threads."""
        accessor = self.ours()["accessor"]
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            rates = pool.map(_saturate, [(self.port, accessor, 4, 3.0)] * 2)
        return float(sum(rates))


def _saturate(args: tuple[int, str, int, float]) -> float:
    port, accessor, threads, seconds = args

    def make() -> server_bench.Call:
        raw = server_bench.Raw(port, ROOT)
        return lambda: raw.call("POST", "auth/token/lookup-accessor", {"accessor": accessor})

    return server_bench.rate(make, threads, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--foreign", type=int, default=10_000)
    parser.add_argument("--scan", type=int, default=100_000)
    parser.add_argument("--seed-sample", type=int, default=1000)
    parser.add_argument("--bao-foreign", type=int, default=300)
    parser.add_argument("--bao-stale", type=int, default=50)
    default = Path(sys.executable).parent / "renewer"
    parser.add_argument("--renewer", default=str(default), help="the renewer executable to measure")
    args = parser.parse_args()
    bench = Bench(args)
    print(f"renewer bench: {args.renewer}, dev server on port {bench.port}, {os.cpu_count()} CPUs")
    try:
        bench.startup()
        bench.happy_run()
        bench.sweeps()
        bench.scan()
    finally:
        bench.close()
    openbao_sweep.section(args.renewer, args.bao_foreign, args.bao_stale)


if __name__ == "__main__":
    main()
