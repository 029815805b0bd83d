"""Issue 15's token-safety cases against the session's real peer (dev server, or OpenBao).

* item 1: a short-lived token with our name and policies is drift, healed with
  its own authority, and the run never costs us the periodic token;
* item 2: two homes with the README's config (same display name) on one
  Vault never revoke each other's tokens;
* item 7: a clobbering token created *from* our old token dies with it when
  the sweep revokes the old one, and the HEALED line says so.

Plus a hypothesis property over (file token, ledger, Vault state) that runs
the real CLI against the real peer: the properties of
``tests/unit/test_token_safety.py``, end to end.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewer.tokens.owner import installation_owner
from tests.integration.conftest import ADMIN, SOPS, World


def marks(world: World) -> dict[str, str]:
    """The owner marks this world's renewer puts on the tokens it mints."""
    return {
        "renewer_machine": installation_owner(world.config(), persist=False),
        "renewer_sink": "devvm",
    }


def accessor_of(world: World, token: str) -> str:
    info = world.lookup(token)
    assert info is not None
    return str(info["accessor"])


def child_of(world: World, parent: str, **body: Any) -> str:
    """A token created *with* `parent` (a child: it dies when `parent` is revoked)."""
    response = world.vault.request("POST", "auth/token/create", token=parent, json=body)
    assert response.status_code == 200, response.text
    from tests import leakguard

    token: str = response.json()["auth"]["client_token"]
    leakguard.remember(token)
    return token


class TestAShortLivedTokenOfOursIsDrift:
    """Item 1: `OK renewed devvm (token-devvm-wizard, ttl 1h); revoked 1 stale token(s)`."""

    def test_a_1h_child_of_our_token_is_healed_and_dies_with_it(self, world: World) -> None:
        periodic = world.mint_ours()
        world.write(periodic)
        assert world.cli("run").code == 0  # the ledger now knows the periodic token
        short = child_of(
            world, periodic, policies=[ADMIN, SOPS], ttl="1h", display_name=world.display
        )
        world.write(short)

        result = world.cli("run")

        assert result.code == 0, result.err
        healed = result.event("token.healed")
        assert "not periodic" in healed["summary"] or "not an orphan" in healed["summary"]
        new = world.lookup(world.read())
        assert new is not None
        assert (new["period"], new["orphan"], new["meta"]) == (2_764_800, True, marks(world))
        assert world.ours_alive() == [new["accessor"]]
        assert world.lookup(periodic) is None, "the superseded periodic token was swept"
        assert world.lookup(short) is None
        assert healed["authority_revoked_by_cascade"] is True
        assert "revoked it with its parent (cascade)" in healed["summary"]
        again = world.cli("run")
        assert again.code == 0 and again.event("token.renewed")

    def test_a_1h_token_from_an_admin_login_is_healed_and_spared(self, world: World) -> None:
        """Not a child of ours: the sweep leaves the clobbering token alone, as promised."""
        periodic = world.mint_ours()
        world.write(periodic)
        assert world.cli("run").code == 0
        admin = world.admin_clobber()
        short = child_of(world, admin, policies=[ADMIN, SOPS], ttl="1h", display_name=world.display)
        world.write(short)

        result = world.cli("run")

        assert result.code == 0, result.err
        healed = result.event("token.healed")
        assert healed["authority_revoked_by_cascade"] is False
        assert world.lookup(short) is not None, "the clobbering token is never revoked"
        new = world.lookup(world.read())
        assert new is not None and new["period"] == 2_764_800


class TestTwoHomesOneVault:
    """Item 2: a heal's full scan on one home revoked the other's live token."""

    def test_a_heal_in_one_home_never_revokes_the_other_homes_token(
        self, world: World, tmp_path: Path
    ) -> None:
        other = World(
            vault=world.vault,
            home=tmp_path / "other-home",
            capsys=world.capsys,
            display=world.display,
        )
        other.home.mkdir()
        for home in (world, other):
            home.write(home.admin_clobber())
            result = home.cli("run")
            assert result.code == 0, result.err
            assert result.event("token.healed")
        theirs = other.read()
        assert marks(world) != marks(other), "two homes, two owners"

        world.write(world.admin_clobber())  # a new login in the first home: another heal
        healed = world.cli("run")

        assert healed.code == 0, healed.err
        event = healed.event("token.healed")
        assert event["others_left_alone"] == 1
        assert "another renewer's marks" in event["summary"]
        assert other.lookup(theirs) is not None
        renewed = other.cli("run")
        assert renewed.code == 0 and renewed.event("token.renewed")

    def test_manual_strays_are_still_swept_and_pre_marks_tokens_are_not(self, world: World) -> None:
        """No renewer mark → the seed's stray, swept; `created-by: renewer` (older releases,
        machine unknown) → left to the ledger of the machine that owns it."""
        world.write(world.mint_ours())
        assert world.cli("run").code == 0
        stray = world.mint_ours()
        legacy = world.create(
            policies=[ADMIN, SOPS],
            period="768h",
            display_name=world.display,
            no_parent=True,
            meta={"created-by": "renewer", "sink": "devvm"},
        )
        world.write(world.admin_clobber())
        result = world.cli("run")
        assert result.code == 0, result.err
        assert world.lookup(stray) is None
        assert world.lookup(legacy) is not None
        assert result.event("token.healed")["others_left_alone"] == 1

    def test_another_machines_token_copied_into_our_file_is_drift(self, world: World) -> None:
        """Renewing it would make two machines share one token: heal our own instead."""
        foreign = world.create(
            policies=[ADMIN, SOPS],
            period="768h",
            display_name=world.display,
            no_parent=True,
            meta={"renewer_machine": "0000000000000000", "renewer_sink": "devvm"},
        )
        world.write(foreign)
        result = world.cli("run")
        assert result.code == 0, result.err
        assert "another machine" in result.event("token.healed")["summary"]
        assert world.lookup(foreign) is not None


# --- the property, end to end ------------------------------------------------------------

KINDS = ("periodic", "periodic-elsewhere", "child-of-periodic", "stray", "admin", "weak")


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    tokens = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    return {
        "tokens": tokens,
        "file": draw(st.integers(min_value=0, max_value=len(tokens) - 1)),
        "known": draw(st.booleans()),  # a first run taught the ledger the periodic token
    }


def _make(world: World, kind: str, made: list[tuple[str, str]]) -> str:
    periodic = {
        "policies": [ADMIN, SOPS],
        "period": "768h",
        "display_name": world.display,
        "no_parent": True,
    }
    if kind == "periodic":
        return world.create(**periodic, meta=marks(world))
    if kind == "periodic-elsewhere":
        return world.create(
            **periodic, meta={"renewer_machine": "0000000000000000", "renewer_sink": "devvm"}
        )
    if kind == "child-of-periodic":
        ours = [token for token, made_kind in made if made_kind == "periodic"]
        parent = ours[0] if ours else world.create(**periodic, meta=marks(world))
        return child_of(world, parent, policies=[ADMIN, SOPS], ttl="1h", display_name=world.display)
    if kind == "stray":
        return world.create(**periodic)
    if kind == "admin":
        return world.admin_clobber()
    return world.weak_clobber()


def _good(world: World, token: str) -> bool:
    info = world.lookup(token)
    return (
        info is not None
        and info["display_name"] == world.ours
        and info.get("period") == 2_764_800
        and info.get("orphan") is True
        and (info.get("meta") or {}).get("renewer_machine")
        in {None, marks(world)["renewer_machine"]}
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_no_run_costs_us_our_periodic_token_or_anothers(
    world: World, scenario: dict[str, Any]
) -> None:
    """Promises 1 and 2 of tests/unit/test_token_safety.py, with the real CLI and server."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=world.home.parent))
    try:
        here = World(vault=world.vault, home=home, capsys=world.capsys)
        pairs: list[tuple[str, str]] = []
        for kind in scenario["tokens"]:
            pairs.append((_make(here, kind, pairs), kind))
        made = [token for token, _ in pairs]
        if scenario["known"] and "periodic" in scenario["tokens"]:
            here.write(made[scenario["tokens"].index("periodic")])
            assert here.cli("run").code == 0
        here.write(made[scenario["file"]])
        good_before = [token for token in made if _good(here, token)]
        elsewhere = [
            token
            for token, kind in zip(made, scenario["tokens"], strict=True)
            if kind == "periodic-elsewhere"
        ]

        result = here.cli("run")

        assert result.code in {0, 1}, result.err
        if good_before:
            assert _good(here, here.read()) or all(here.lookup(t) for t in good_before), result.err
        assert all(here.lookup(token) is not None for token in elsewhere), result.err
    finally:
        shutil.rmtree(home, ignore_errors=True)
