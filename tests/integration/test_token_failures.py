"""How token failures read, and that their advice works (issue 15, item 8).

Real peers: the session's Vault peer, Python's own web server standing where
a Vault should be (a non-Vault HTTP server, and plain HTTP behind an
``https://`` address), and ``sh`` running the printed recovery.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import leakguard
from tests.integration.conftest import NO_ADDR, World


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    """A plain web server (not Vault) on 127.0.0.1, port 0: its 404 page is HTML."""
    (tmp_path / "www").mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "www"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class TestConsoleLines:
    def test_a_failed_items_console_line_ends_with_its_runbook(self, world: World) -> None:
        """README: every error printed ends with `see: runbooks/<file>.md#<anchor>`."""
        world.write(world.weak_clobber())
        result = world.cli("run", log_format="console")
        assert result.code == 1
        drift = next(line for line in result.err.splitlines() if line.startswith("DRIFT devvm"))
        assert drift.endswith("; see: runbooks/token-renewer.md#drift-heal-denied")

    def test_an_ok_line_has_no_runbook(self, world: World) -> None:
        world.write(world.mint_ours())
        result = world.cli("run", log_format="console")
        ok = next(line for line in result.err.splitlines() if line.startswith("OK renewed"))
        assert "see:" not in ok


class TestStatusAfterMint:
    def test_status_says_a_mint_repaired_what_the_last_run_left(self, world: World) -> None:
        """`last run … exit 1` then `healthy` with no word about the mint in between."""
        world.write(world.weak_clobber())
        assert world.cli("run").code == 1
        world.write(world.admin_clobber())  # what the login in the recovery leaves
        assert world.cli("mint", "devvm").code == 0

        human = world.cli("status")
        lines = human.out.splitlines()
        assert lines[0].startswith("last run: ") and lines[0].endswith("exit 1")
        assert lines[1].startswith("since then: `renewer mint devvm` at ")
        assert lines[1].endswith("exit 0; the items below show its outcome")
        report = json.loads(world.cli("status", "--json").out)
        assert report["last_manual"]["command"] == "renewer mint devvm"
        assert report["last_manual"]["exit_code"] == 0
        assert report["items"][0]["event"] == "token.minted"


class TestWhereVaultIs:
    def test_no_vault_address_anywhere_is_a_configuration_error(self, world: World) -> None:
        """README: exit 78 for a configuration problem (it was 1)."""
        world.addr = NO_ADDR
        world.write(world.mint_ours())
        result = world.cli("run", env={"VAULT_ADDR": ""})
        assert result.code == 78
        assert "no Vault address" in result.err and "vault.addr" in result.err
        check = world.cli("check", env={"VAULT_ADDR": ""})
        assert check.code == 78
        assert "fail  vault: no Vault address" in check.out

    def test_a_web_server_that_is_not_vault_is_named_without_its_html(
        self, world: World, web_server: str
    ) -> None:
        world.addr = f"http://{web_server}"
        world.write(world.mint_ours())
        result = world.cli("run")
        assert result.code == 1
        failed = result.event("token.failed")
        assert "HTTP 404 with text/html, not Vault's JSON" in failed["summary"]
        assert "is vault.addr a Vault server?" in failed["summary"]
        assert "<" not in result.err and "html>" not in result.err.lower()

    def test_https_to_a_plain_http_server_says_so(self, world: World, web_server: str) -> None:
        world.addr = f"https://{web_server}"
        world.write(world.mint_ours())
        result = world.cli("run")
        assert result.code == 1
        failed = result.event("token.failed")
        assert (
            "vault.addr says https://, but the server answered in plain HTTP" in failed["summary"]
        )
        assert "ca_cert" not in failed["summary"]


class TestSymlinkedTokenFile:
    def test_the_printed_recovery_works(self, world: World) -> None:
        """`move it away, then renewer mint devvm` had no authority left to mint with."""
        target = world.home / "dotfiles" / "vault-token"
        target.parent.mkdir()
        target.write_text(world.mint_ours())
        target.chmod(0o600)
        world.sink.symlink_to(target)

        failed = world.cli("run").event("token.file_invalid")
        command = failed["summary"].split("otherwise make it a file again: ")[1]
        assert command == (
            f"mv {world.sink} {world.sink}.aside && renewer mint devvm --from-file {target}"
        )
        bin_dir = Path(sys.executable).parent
        done = subprocess.run(
            ["sh", "-ec", command],
            env={
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "HOME": str(world.home),
                "RENEWER_CONFIG": str(world.config_path),
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        leakguard.scan("recovery stdout", done.stdout)
        leakguard.scan("recovery stderr", done.stderr)
        assert done.returncode == 0, done.stderr
        assert not world.sink.is_symlink()
        again = world.cli("run")
        assert again.code == 0 and again.event("token.renewed")
