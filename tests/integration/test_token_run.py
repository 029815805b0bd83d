"""`renewer run` against a real Vault peer: every path of product.md §1.2."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from renewer.config import default_login
from tests.integration.conftest import World, finish
from tests.peers.tls_proxy import tls_front


class TestHealthy:
    def test_our_token_is_renewed_with_exactly_two_requests(self, world: World) -> None:
        """lookup-self + renew-self, nothing else; an OK line with name and TTL."""
        world.write(world.mint_ours())
        controls = world.vault.controls
        if controls is not None:
            controls.reset_counters()

        result = world.cli("run")

        assert result.code == 0
        renewed = result.event("token.renewed")
        assert renewed["summary"].startswith(f"OK renewed devvm ({world.ours}, ttl 32d")
        if controls is not None:
            assert sum(controls.counters().values()) == 2

    def test_a_dry_run_changes_nothing_and_records_nothing(self, world: World) -> None:
        """No renew, no state file, no ledger."""
        token = world.mint_ours()
        world.write(token)
        result = world.cli("run", "--dry-run")
        assert result.code == 0
        assert "would renew" in result.event("token.plan")["summary"]
        assert not (world.state / "state.json").exists()
        assert not (world.state / "ledger.json").exists()

    def test_a_world_readable_token_file_is_repaired_with_a_warning(self, world: World) -> None:
        """0644 → 0600, and the run says so (exit 0: it is fixed)."""
        world.write(world.mint_ours())
        world.sink.chmod(0o644)
        result = world.cli("run")
        assert result.code == 0
        assert stat.S_IMODE(world.sink.stat().st_mode) == 0o600
        assert "repaired to 0600" in result.event("token.renewed")["summary"]

    def test_status_reports_the_renewed_token(self, world: World) -> None:
        """status --json after a run: healthy, with TTL and outcome."""
        world.write(world.mint_ours())
        assert world.cli("run").code == 0
        result = world.cli("status", "--json")
        report = json.loads(result.out)
        item = report["items"][0]
        assert (item["key"], item["outcome"], item["healthy"]) == ("token/devvm", "OK", True)
        assert item["ttl_seconds"] > 30 * 86400
        assert result.code == 0


class TestHeal:
    def test_an_admin_clobber_is_healed_and_stale_tokens_swept(self, world: World) -> None:
        """The OIDC case: HEALED, exactly one token of ours left, the login token untouched."""
        first = world.mint_ours()
        world.write(first)
        assert world.cli("run").code == 0
        leftover = world.mint_ours()  # an earlier manual re-mint the ledger never saw
        oidc = world.admin_clobber()
        world.write(oidc)

        result = world.cli("run")

        assert result.code == 0, result.err
        healed = result.event("token.healed")
        assert healed["foreign_display_name"] == "token-oidc-wizard"
        assert healed["swept"] == 2
        new = world.read()
        assert new not in {first, oidc, leftover}
        info = world.lookup(new)
        assert info is not None
        assert (info["display_name"], info["period"], info["orphan"]) == (
            world.ours,
            2_764_800,
            True,
        )
        assert world.ours_alive() == [info["accessor"]]
        assert world.lookup(first) is None and world.lookup(leftover) is None
        assert world.lookup(oidc) is not None, "the clobbering token is never revoked"
        assert stat.S_IMODE(world.sink.stat().st_mode) == 0o600

    def test_ledger_only_sweep_skips_the_full_scan(self, world: World) -> None:
        """sweep: ledger revokes what the ledger knows and nothing it never saw."""
        world.sweep = "ledger"
        first = world.mint_ours()
        world.write(first)
        assert world.cli("run").code == 0
        unseen = world.mint_ours()
        world.write(world.admin_clobber())
        assert world.cli("run").code == 0
        assert world.lookup(first) is None
        assert world.lookup(unseen) is not None

    def test_a_weak_clobber_is_drift_and_the_file_is_untouched(self, world: World) -> None:
        """Vault denies the mint: DRIFT naming the foreign token, reason and recovery; exit 1."""
        world.write(world.mint_ours())
        weak = world.weak_clobber()
        world.write(weak)

        result = world.cli("run")

        assert result.code == 1
        drift = result.event("token.drift")
        assert drift["foreign_display_name"] == "token-kubernetes-woodpecker-default"
        assert "investigate what wrote it" in drift["summary"].lower()
        login = default_login(os.environ)  # `vault`, else `bao`, whichever is on PATH
        assert drift["recovery"] == f"{login} && renewer mint devvm"
        assert drift["summary"].endswith(f"Recover: {login} && renewer mint devvm")
        assert world.read() == weak
        assert len(world.ours_alive()) == 1  # no token of ours was minted
        assert "see: " not in result.err or "drift-heal-denied" in result.err

    @pytest.mark.floor(15)
    def test_a_minted_token_that_fails_the_guard_is_revoked(self, world: World) -> None:
        """Root collapses policies to ["root"]: the minted token lacks vault-admin → revoked."""
        world.mint_policies = ("renewer-test-admin", "root")
        root_clobber = world.vault.root_token
        world.write(root_clobber)

        result = world.cli("run")

        assert result.code == 1
        failed = result.event("token.heal_failed")
        assert "revoked" in failed["summary"]
        assert world.read() == root_clobber
        assert world.ours_alive() == []

    def test_dry_run_prints_the_heal_plan_and_mints_nothing(self, world: World) -> None:
        """The plan names the foreign token and the mint; Vault is unchanged."""
        oidc = world.admin_clobber()
        world.write(oidc)
        result = world.cli("run", "--dry-run")
        assert result.code == 0
        assert "would mint a periodic token" in result.event("token.plan")["summary"]
        assert world.read() == oidc
        assert world.ours_alive() == []


class TestDeadTokensAndFiles:
    @pytest.mark.floor(13)
    def test_an_expired_token_needs_a_login(self, world: World) -> None:
        """403 invalid token: exit 1, the exact recovery, file untouched."""
        short = world.create(policies=["renewer-test-admin"], ttl="2s", display_name=world.display)
        world.write(short)
        world.vault.elapse(3)
        result = world.cli("run")
        assert result.code == 1
        invalid = result.event("token.invalid")
        assert "renewer mint devvm" in invalid["summary"]
        assert world.read() == short

    @pytest.mark.floor(13)
    def test_a_revoked_token_needs_a_login(self, world: World) -> None:
        """Same for a revoked token; works on a real Vault too."""
        token = world.mint_ours()
        world.write(token)
        world.vault.request("POST", "auth/token/revoke", json={"token": token})
        result = world.cli("run")
        assert result.code == 1
        assert result.event("token.invalid")

    @pytest.mark.parametrize(
        "content",
        [None, b"", b"\x00\xffgarbage", b"two\nlines"],
        ids=["missing", "empty", "binary", "lines"],
    )
    @pytest.mark.floor(1, 2, 3)
    def test_a_bad_token_file_is_reported_and_never_rewritten(
        self, world: World, content: bytes | None
    ) -> None:
        """Clear error, exit 1, the file exactly as it was (or still absent)."""
        if content is not None:
            world.sink.write_bytes(content)
        result = world.cli("run")
        assert result.code == 1
        assert result.event("token.file_invalid")
        if content is None:
            assert not world.sink.exists()
        else:
            assert world.sink.read_bytes() == content
        assert "Traceback" not in result.err


@pytest.mark.floor(9, 10)
class TestVaultUnavailable:
    def test_connection_refused_is_temporary_and_bounded(self, world: World) -> None:
        """Nobody listening: retries inside the deadline, exit 75, file untouched."""
        token = world.mint_ours()
        world.write(token)
        world.addr = "http://127.0.0.1:9"  # discard port: nothing listens
        world.deadline = "3s"
        result = world.cli("run")
        assert result.code == 75
        assert "cannot reach Vault" in result.event("vault.unreachable")["summary"]
        assert world.read() == token

    def test_sealed_is_temporary(self, world: World) -> None:
        """503 Vault is sealed: exit 75, nothing written (OpenBao: a real sys/seal)."""
        controls = world.vault.require_dev()
        token = world.mint_ours()
        world.write(token)
        world.deadline = "2s"
        controls.seal()
        try:
            result = world.cli("run")
        finally:
            controls.unseal()
        assert result.code == 75
        assert "sealed" in result.event("vault.unreachable")["summary"]

    def test_a_429_burst_is_retried_and_the_run_succeeds(self, world: World) -> None:
        """Retry-After honoured, then success: exit 0."""
        controls = world.vault.require_dev()
        world.write(world.mint_ours())
        controls.add_fault(
            "status", status=429, retry_after=1, path="auth/token/renew-self", count=2
        )
        result = world.cli("run")
        assert result.code == 0, result.err
        assert result.event("token.renewed")

    def test_a_persistent_503_gives_up_with_75(self, world: World) -> None:
        """Never a tight loop: bounded by the deadline."""
        controls = world.vault.require_dev()
        world.write(world.mint_ours())
        world.deadline = "2s"
        controls.add_fault("status", status=503, path="auth/token/lookup-self")
        result = world.cli("run")
        assert result.code == 75


class TestCrashAndRace:
    @pytest.mark.parametrize(
        "point", ["heal.after_mint", "heal.after_ledger_minted", "heal.after_write"]
    )
    @pytest.mark.floor(6, 16)
    def test_a_crash_mid_heal_is_repaired_by_the_next_run(self, world: World, point: str) -> None:
        """SIGKILL at each step: the next run ends with one token of ours, in the file."""
        world.write(world.mint_ours())
        assert world.cli("run").code == 0
        oidc = world.admin_clobber()
        world.write(oidc)

        crashed = finish(world.process("run", env={"RENEWER_CRASHPOINT": point}))
        assert crashed.code == -9
        assert world.read() in {oidc} | ({world.read()} if point == "heal.after_write" else set())

        result = world.cli("run")
        assert result.code == 0, result.err
        in_file = world.lookup(world.read())
        assert in_file is not None and in_file["display_name"] == world.ours
        assert world.ours_alive() == [in_file["accessor"]]

    @pytest.mark.floor(8)
    def test_five_concurrent_runs_mint_exactly_one_token(self, world: World) -> None:
        """The lock serialises them: one HEALED, the others renew it; nothing leaks."""
        world.write(world.mint_ours())
        world.write(world.admin_clobber())
        world.lock_timeout = "60s"
        processes = [world.process("run") for _ in range(5)]
        results = [finish(process, timeout=120) for process in processes]
        assert [r.code for r in results] == [0] * 5, [r.err for r in results]
        healed = [r for r in results if any(e.get("event") == "token.healed" for e in r.events())]
        assert len(healed) == 1
        in_file = world.lookup(world.read())
        assert in_file is not None
        assert world.ours_alive() == [in_file["accessor"]]


@pytest.mark.floor(14)
class TestHostileAnswers:
    @pytest.mark.parametrize("kind", ["nonjson", "truncate", "reset", "latency"])
    def test_a_broken_answer_once_is_retried(self, world: World, kind: str) -> None:
        """One bad answer (a proxy page, a cut body, a reset, a stall): retried, then OK."""
        controls = world.vault.require_dev()
        world.write(world.mint_ours())
        world.read_timeout = "1s"
        controls.add_fault(kind, path="auth/token/lookup-self", count=1, delay=2.0)
        result = world.cli("run")
        assert result.code == 0, result.err
        assert result.event("token.renewed")

    @pytest.mark.parametrize("kind", ["nonjson", "truncate", "reset"])
    def test_a_persistently_broken_answer_is_temporary(self, world: World, kind: str) -> None:
        """Exit 75, one clear line, no traceback, the file untouched."""
        controls = world.vault.require_dev()
        token = world.mint_ours()
        world.write(token)
        world.deadline = "2s"
        controls.add_fault(kind, path="auth/token/renew-self")
        result = world.cli("run")
        assert result.code == 75
        assert "Traceback" not in result.err
        assert result.event("vault.unreachable")
        assert world.read() == token


@pytest.mark.floor(12)
class TestCappedRenewal:
    def test_a_renewal_capped_by_explicit_max_ttl_is_a_warning_with_the_time_left(
        self, world: World
    ) -> None:
        """Vault answers 200 but cannot extend: token.renew_capped, exit 0, the hint to mint.

        Seconds instead of hours, so that a real server's clock gets there too."""
        world.period = "10s"
        world.write(
            world.create(
                policies=["renewer-test-admin", "renewer-test-sops"],
                period="10s",
                explicit_max_ttl="15s",
                display_name=world.display,
                no_parent=True,
            )
        )
        world.vault.elapse(6)  # about 9 s left before the explicit max: less than a period
        result = world.cli("run")
        assert result.code == 0, result.err
        capped = result.event("token.renew_capped")
        assert capped["capped"] is True
        assert capped["ttl"] <= 9
        assert "renewer mint devvm" in capped["summary"]
        status = world.cli("status", "--json")
        assert status.code == 1  # a warning asks for a look


class TestOverTls:
    """Vault behind verified TLS (vault.ca_cert), for hvac and for the sweep's connections."""

    def test_a_heal_with_a_full_sweep_works_over_verified_tls(
        self, world: World, tmp_path: Path
    ) -> None:
        """Lookups, the mint and the kept-alive scan all go through TLS with our CA."""
        with tls_front(world.vault.addr, tmp_path) as front:
            world.addr = front.addr
            world.extra_vault = f"  ca_cert: {front.ca_file}\n"
            world.write(world.mint_ours())
            first = world.cli("run")
            assert first.code == 0, first.err
            stray = world.mint_ours()
            world.write(world.admin_clobber())
            result = world.cli("run")
            assert result.code == 0, result.err
            assert result.event("token.healed")["swept"] == 2
            assert world.lookup(stray) is None

    def test_an_untrusted_certificate_is_a_clear_error_not_a_retry_loop(
        self, world: World, tmp_path: Path
    ) -> None:
        """No ca_cert: verification fails at once, exit 1, the hint names vault.ca_cert."""
        with tls_front(world.vault.addr, tmp_path) as front:
            world.addr = front.addr
            token = world.mint_ours()
            world.write(token)
            result = world.cli("run")
        assert result.code == 1
        failed = result.event("token.failed")
        assert "TLS with Vault failed" in failed["summary"]
        assert "vault.ca_cert" in failed["summary"]
        assert world.read() == token
