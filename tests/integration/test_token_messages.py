"""What renewer says about tokens, checked against the session's real peer (issue 15, items 3-6).

* item 3: ``--dry-run`` and ``check`` predict the heal read-only and exit as the
  real run does;
* item 4: every message names where the authority came from, and the recovery
  printed while ``$VAULT_TOKEN`` is set works while it is still set;
* item 5: the login command is the sink's ``login:``; "permission denied" said once;
* item 6: a renewal (or heal) capped by the token mount's max TTL says so and
  what lifts it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import ADMIN, SOPS, World
from tests.vaultpeer import VaultPeer, unique

NO_SUDO = 'path "auth/token/create-orphan" { capabilities = ["update"] }'


@pytest.fixture(scope="module")
def no_sudo_policy(vault_peer: VaultPeer) -> str:
    """A policy that may call create-orphan but not make a periodic token (no sudo)."""
    name = unique("renewer-test-nosudo")
    response = vault_peer.request("PUT", f"sys/policies/acl/{name}", json={"policy": NO_SUDO})
    assert response.status_code in {200, 204}, response.text
    return name


def clobber(world: World, kind: str, no_sudo: str) -> str:
    if kind == "admin":
        return world.admin_clobber()
    if kind == "weak":
        return world.weak_clobber()
    return world.create(policies=[no_sudo], ttl="1h", display_name="ci-minter", no_parent=True)


class TestHonestDryRun:
    """Item 3: `PLAN … would mint …` and exit 0, then the real run exits 1."""

    @pytest.mark.parametrize(
        ("kind", "code"), [("admin", 0), ("weak", 1), ("update-without-sudo", 1)]
    )
    def test_the_dry_run_exits_as_the_real_run_does(
        self, world: World, no_sudo_policy: str, kind: str, code: int
    ) -> None:
        token = clobber(world, kind, no_sudo_policy)
        world.write(token)

        dry = world.cli("run", "--dry-run")
        plan = dry.event("token.plan")
        real = world.cli("run")

        assert (dry.code, real.code) == (code, code), (dry.err, real.err)
        if code:
            assert "the heal would be DENIED" in plan["summary"]
            assert "Recover: " in plan["summary"]
            assert plan["see"] == "runbooks/token-renewer.md#drift-heal-denied"
            assert real.event("token.drift")
        else:
            assert "Vault grants update and sudo on auth/token/create-orphan" in plan["summary"]
            assert real.event("token.healed")

    def test_a_dry_run_without_sudo_says_which_rule(
        self, world: World, no_sudo_policy: str
    ) -> None:
        world.write(clobber(world, "update-without-sudo", no_sudo_policy))
        plan = world.cli("run", "--dry-run").event("token.plan")
        assert "root or sudo to create a periodic token" in plan["summary"]

    def test_check_says_will_heal_for_an_admin_clobber(self, world: World) -> None:
        world.write(world.admin_clobber())
        result = world.cli("check")
        assert result.code == 0, result.out
        line = next(line for line in result.out.splitlines() if "token devvm" in line)
        assert line.startswith("warn")
        assert "`renewer run` will heal it with the authority of 'token-oidc-wizard'" in line

    def test_check_fails_with_the_recovery_for_a_weak_clobber(self, world: World) -> None:
        world.write(world.weak_clobber())
        result = world.cli("check")
        assert result.code == 1
        line = next(line for line in result.out.splitlines() if "token devvm" in line)
        assert line.startswith("fail")
        assert "the heal would be DENIED" in line and "Recover: " in line


class TestAuthorityAndRecovery:
    """Items 4 and 5."""

    def test_a_weak_vault_token_is_named_and_the_recovery_works_with_it_set(
        self, world: World
    ) -> None:
        """`VAULT_TOKEN=<weak> renewer mint devvm` while the file holds an admin login."""
        weak = world.weak_clobber()
        world.write(world.admin_clobber())

        denied = world.cli("mint", "devvm", env={"VAULT_TOKEN": weak})

        assert denied.code == 1
        event = denied.event("token.mint_denied")
        assert "'token-kubernetes-woodpecker-default' from $VAULT_TOKEN" in event["summary"]
        assert "holds" not in event["summary"], "the file is not what was refused"
        assert event["recovery"].endswith("renewer mint devvm --from-file ~/.vault-token")
        assert event["see"] == "runbooks/token-renewer.md#mint-denied"
        # The file already holds the admin login: the recovery's mint works, VAULT_TOKEN set.
        recovered = world.cli(
            "mint", "devvm", "--from-file", str(world.sink), env={"VAULT_TOKEN": weak}
        )
        assert recovered.code == 0, recovered.err
        assert "from --from-file" in recovered.event("token.minted")["summary"]

    def test_a_dead_vault_token_is_named(self, world: World) -> None:
        dead = world.admin_clobber()
        world.vault.request("POST", "auth/token/revoke", json={"token": dead})
        result = world.cli("mint", "devvm", env={"VAULT_TOKEN": dead})
        assert result.code == 1
        assert (
            "the authority token from $VAULT_TOKEN is not valid"
            in result.event("token.invalid")["summary"]
        )

    def test_the_login_command_is_the_sinks(self, world: World) -> None:
        world.login = "bao login -method=userpass -username=wizard"
        world.write(world.weak_clobber())
        drift = world.cli("run").event("token.drift")
        assert drift["recovery"] == (
            "bao login -method=userpass -username=wizard && renewer mint devvm"
        )

    def test_permission_denied_is_said_once(self, world: World) -> None:
        world.write(world.weak_clobber())
        drift = world.cli("run").event("token.drift")
        assert "permission denied" in drift["denial"]
        assert "permission denied: permission denied" not in drift["summary"]


@pytest.fixture
def mount_capped_at_24h(vault: VaultPeer) -> Iterator[None]:
    """`vault auth tune -max-lease-ttl=24h token/` (dev server and OpenBao), undone after."""
    response = vault.request("POST", "sys/auth/token/tune", json={"max_lease_ttl": "24h"})
    assert response.status_code == 204, response.text
    try:
        yield
    finally:
        vault.request("POST", "sys/auth/token/tune", json={"max_lease_ttl": "0"})


class TestMountCap:
    """Item 6: "renewals cannot extend it … mint a fresh one" was wrong for a mount cap."""

    def test_a_renewal_capped_by_the_mount_says_where_and_what_lifts_it(
        self, world: World, mount_capped_at_24h: None
    ) -> None:
        world.write(world.mint_ours())
        result = world.cli("run")
        assert result.code == 0, result.err
        capped = result.event("token.renew_capped")
        summary = capped["summary"]
        assert capped["cap"] == "MOUNT_MAX"
        assert "capped at 24h by the token mount's max TTL" in summary
        assert "each renewal extends it by 24h again" in summary
        assert "auth tune -max-lease-ttl=768h token/" in summary
        assert "renewals cannot" not in summary and "renewer mint" not in summary

    def test_a_heal_under_a_mount_cap_mentions_it(
        self, world: World, mount_capped_at_24h: None
    ) -> None:
        world.write(world.admin_clobber())
        result = world.cli("run")
        assert result.code == 0, result.err
        healed = result.event("token.healed")
        assert healed["outcome"] == "WARNING"
        assert "capped at 24h by the token mount's max TTL" in healed["summary"]

    def test_an_explicit_max_still_says_mint(self, world: World) -> None:
        """The other ceiling: renewals cannot pass it; a fresh mint restarts the clock.
        (Seconds instead of hours, so that a real server's clock gets there too.)"""
        world.period = "10s"
        world.write(
            world.create(
                policies=[ADMIN, SOPS],
                period="10s",
                explicit_max_ttl="15s",
                display_name=world.display,
                no_parent=True,
            )
        )
        world.vault.elapse(6)  # about 9 s left before the explicit max: less than a period
        capped = world.cli("run").event("token.renew_capped")
        assert capped["cap"] == "EXPLICIT_MAX"
        assert "renewals cannot extend past it" in capped["summary"]
        assert "renewer mint devvm" in capped["summary"]
