"""A token rotation that died around its mint revokes only what it provably issued (issue 19).

Against the session's Vault peer (a real OpenBao when ``bao`` is on PATH).
Each test has a periodic token with our display name made by hand, beside
the one in the sink: a person's, or another tool's. A `renewer rotate` that
resumes from ``green_issuing`` may revoke a token only when the sink's
ledger (the journal) or the token's meta (``renewer_rotation: <name>``)
proves the rotation minted it, and never scans accessors when the sink says
``sweep: never`` or ``ledger``.
"""

from __future__ import annotations

import pytest

from tests import leakguard
from tests.integration.conftest import ADMIN, SOPS, World, finish
from tests.integration.rotating import TOKEN_ROTATION, Rotating


@pytest.fixture
def rot(world: World) -> Rotating:
    return Rotating(world)


def hand_made(world: World) -> str:
    """A periodic token with our display name and no renewer mark (made with `vault token
    create -display-name=...`)."""
    return world.create(
        policies=[ADMIN, SOPS], period=world.period, display_name=world.display, no_parent=True
    )


def crash_rotation(rot: Rotating, point: str, *, sweep: str) -> tuple[str, str]:
    """A sink token and a hand-made twin; `rotate --now` killed at *point*; both tokens."""
    world = rot.world
    world.sweep = sweep
    rot.rotations = TOKEN_ROTATION.format(schedule="# by hand only", grace="1h", extra="")
    blue = world.mint_ours()
    world.write(blue)
    twin = hand_made(world)
    crashed = finish(
        world.process("rotate", "devvm-token", "--now", env={"RENEWER_CRASHPOINT": point})
    )
    assert crashed.code == -9, crashed.err
    assert rot.state()["phase"] in {"green_issuing", "green_issued"}
    return blue, twin


def minted_by_rotation(rot: Rotating, *keep: str) -> list[str]:
    """Accessors of live tokens named like ours other than *keep* whose meta names it."""
    found = []
    for accessor in rot.world.ours_alive():
        if accessor in keep:
            continue
        response = rot.world.vault.request(
            "POST", "auth/token/lookup-accessor", json={"accessor": accessor}
        )
        meta = response.json()["data"].get("meta") or {}
        if meta.get("renewer_rotation") == "devvm-token":
            found.append(accessor)
    return found


class TestRecoveryRevokesOnlyItsOwn:
    @pytest.mark.parametrize("sweep", ["never", "ledger", "on-heal"])
    def test_killed_before_minting_nothing_is_revoked_nor_scanned(
        self, rot: Rotating, sweep: str
    ) -> None:
        """The issue's report: `removed 1 unrecorded token(s)`, the hand-made one gone."""
        blue, twin = crash_rotation(rot, "rotation.issue.before", sweep=sweep)
        controls = rot.world.vault.controls
        if controls is not None:
            controls.reset_counters()

        result = rot.cli("rotate", "devvm-token")

        assert result.code == 0, result.err
        swept = result.event("rotation.leftovers_swept")
        assert swept["count"] == "0"
        assert rot.world.lookup(twin) is not None, "the hand-made token was revoked"
        assert rot.world.lookup(blue) is not None
        if controls is not None:
            counters = controls.counters()
            assert "auth/token/accessors" not in counters, "recovery scanned accessors"

    def test_a_lost_mint_is_found_by_its_meta_and_the_twin_survives(self, rot: Rotating) -> None:
        """sweep: on-heal allows the scan; it selects by renewer_rotation, not the name."""
        blue, twin = crash_rotation(rot, "rotation.token.minted", sweep="on-heal")
        lost = minted_by_rotation(rot, rot.accessor_of(blue))
        assert len(lost) == 1, "the killed run minted one token"

        result = rot.cli("rotate", "devvm-token")

        assert result.code == 0, result.err
        assert result.event("rotation.leftovers_swept")["count"] == "1"
        assert lost[0] not in rot.world.ours_alive()
        assert rot.world.lookup(twin) is not None, "the hand-made token was revoked"

    @pytest.mark.parametrize("sweep", ["never", "ledger"])
    def test_a_lost_mint_under_a_no_scan_sweep_is_reported_not_hunted(
        self, rot: Rotating, sweep: str
    ) -> None:
        """No scan: the leftover stays, and the person is told exactly how to find it."""
        blue, twin = crash_rotation(rot, "rotation.token.minted", sweep=sweep)
        lost = minted_by_rotation(rot, rot.accessor_of(blue))

        result = rot.cli("rotate", "devvm-token")

        assert result.code == 0, result.err
        note = result.event("rotation.note")["summary"]
        assert f"sweep: {sweep} allows no accessor scan" in note
        assert "renewer_rotation=devvm-token" in note
        assert minted_by_rotation(rot, rot.accessor_of(blue)) == lost
        assert rot.world.lookup(twin) is not None

    def test_a_recorded_mint_is_revoked_from_the_journal_without_a_scan(
        self, rot: Rotating
    ) -> None:
        """Killed after the ledger recorded the accessor: looked up, meta checked, revoked."""
        blue, twin = crash_rotation(rot, "rotation.issue.after", sweep="never")
        lost = minted_by_rotation(rot, rot.accessor_of(blue))
        assert len(lost) == 1

        result = rot.cli("rotate", "devvm-token")

        assert result.code == 0, result.err
        assert result.event("rotation.leftovers_swept")["count"] == "1"
        assert minted_by_rotation(rot, rot.accessor_of(blue)) == []
        assert rot.world.lookup(twin) is not None
        leakguard.remember(rot.world.read())

    def test_another_machines_rotation_of_the_same_name_survives_the_scan(
        self, rot: Rotating
    ) -> None:
        """Two devvms share a Vault and a README config: the other one's rotation token carries
        the same renewer_rotation and sink, but another renewer_machine. Never ours to revoke."""
        blue, twin = crash_rotation(rot, "rotation.token.minted", sweep="on-heal")
        mine = minted_by_rotation(rot, rot.accessor_of(blue))
        theirs = rot.world.create(
            policies=[ADMIN, SOPS],
            period=rot.world.period,
            display_name=rot.world.display,
            no_parent=True,
            meta={
                "renewer_machine": "0000000000000000",
                "renewer_sink": "devvm",
                "renewer_rotation": "devvm-token",
            },
        )

        result = rot.cli("rotate", "devvm-token")

        assert result.code == 0, result.err
        assert result.event("rotation.leftovers_swept")["count"] == "1"
        assert not set(mine) & set(rot.world.ours_alive())
        assert rot.world.lookup(theirs) is not None, "another machine's token was revoked"
        assert rot.world.lookup(twin) is not None
