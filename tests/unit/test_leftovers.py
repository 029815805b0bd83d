"""Tests for renewer.core.leftovers: a stopped rotation revokes only what it provably issued."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.ledger import LedgerEntry
from renewer.core.leftovers import (
    LEGACY_ROTATION_KEY,
    ROTATION_KEY,
    issued_by,
    plan_leftovers,
    select_leftovers,
)
from renewer.core.model import SweepMode, TokenInfo

OURS = "token-devvm-wizard"


def token(accessor: str, *, meta: dict[str, str] | None = None, name: str = OURS) -> TokenInfo:
    return TokenInfo(
        accessor=accessor,
        display_name=name,
        policies=frozenset(),
        meta=tuple(sorted((meta or {}).items())),
    )


OWNER, SINK = "0123456789abcdef", "devvm"
ROTATED = {ROTATION_KEY: "devvm-token", "renewer_machine": OWNER, "renewer_sink": SINK}
ELSEWHERE = {**ROTATED, "renewer_machine": "fedcba9876543210"}
LEGACY = {"created-by": "renewer", "sink": SINK, LEGACY_ROTATION_KEY: "devvm-token"}


class TestIssuedBy:
    @pytest.mark.parametrize(
        ("meta", "expected"),
        [
            (ROTATED, True),
            (LEGACY, True),
            ({ROTATION_KEY: "other-rotation"}, False),
            ({}, False),
            ({"created-by": "renewer", "sink": "devvm"}, False),  # a heal's token
        ],
        ids=["ours", "legacy-key", "another-rotation", "hand-made", "healed"],
    )
    def test_only_the_rotations_own_mark_counts(self, meta: dict[str, str], expected: bool) -> None:
        """A display name is not a proof; the mark naming this rotation is."""
        assert issued_by(token("a", meta=meta), rotation="devvm-token") is expected


class TestSelectLeftovers:
    def test_the_hand_made_token_with_our_name_survives(self) -> None:
        """Issue 19: a periodic token with our display name, made by hand, was revoked."""
        hand_made, minted = token("a-hand"), token("a-lost", meta=ROTATED)
        selected = select_leftovers(
            [hand_made, minted],
            rotation="devvm-token",
            our_display_name=OURS,
            keep="a-keep",
            owner=OWNER,
            sink=SINK,
        )
        assert selected == ("a-lost",)

    def test_another_machines_rotation_of_the_same_name_is_never_selected(self) -> None:
        """Two devvms, one README config: the same rotation name, different owner marks."""
        theirs = token("a-theirs", meta=ELSEWHERE)
        for journal in (False, True):
            selected = select_leftovers(
                [theirs],
                rotation="devvm-token",
                our_display_name=OURS,
                keep="a-keep",
                owner=OWNER,
                sink=SINK,
                journal=journal,
            )
            assert selected == ()

    def test_a_release_before_the_marks_counts_only_from_this_machines_journal(self) -> None:
        """A legacy token's machine is unknown: a scan leaves it, the ledger's record proves it."""
        legacy = token("a-old", meta=LEGACY)
        by_scan, by_journal = (
            select_leftovers(
                [legacy],
                rotation="devvm-token",
                our_display_name=OURS,
                keep="a-keep",
                owner=OWNER,
                sink=SINK,
                journal=journal,
            )
            for journal in (False, True)
        )
        assert (by_scan, by_journal) == ((), ("a-old",))

    def test_the_kept_and_held_tokens_are_never_selected(self) -> None:
        """The token in the file, and a blue held through its grace."""
        candidates = [token("a-keep", meta=ROTATED), token("a-held", meta=ROTATED)]
        selected = select_leftovers(
            candidates,
            rotation="devvm-token",
            our_display_name=OURS,
            keep="a-keep",
            owner=OWNER,
            sink=SINK,
            kept=frozenset({"a-held"}),
        )
        assert selected == ()

    def test_an_unknown_current_token_selects_nothing(self) -> None:
        """Fail-safe: not knowing which token is current is a reason to revoke none."""
        assert (
            select_leftovers(
                [token("a", meta=ROTATED)],
                rotation="devvm-token",
                our_display_name=OURS,
                keep="",
                owner=OWNER,
                sink=SINK,
            )
            == ()
        )


class TestPlanLeftovers:
    def test_no_mint_begun_means_nothing_to_look_for(self) -> None:
        """A rotation killed before it issued anything asks Vault nothing."""
        plan = plan_leftovers(
            LedgerEntry(current="a-keep"), sweep=SweepMode.ON_HEAL, keep="a-keep", rotation="r"
        )
        assert (plan.confirm, plan.scan, plan.unchecked) == ((), False, "")

    def test_a_recorded_mint_is_confirmed_not_scanned_for(self) -> None:
        """minted() recorded the accessor: look it up, no scan."""
        entry = LedgerEntry(current="a-keep", pending=("a-new",))
        plan = plan_leftovers(entry, sweep=SweepMode.NEVER, keep="a-keep", rotation="r")
        assert (plan.confirm, plan.scan) == (("a-new",), False)

    @pytest.mark.parametrize("mode", [SweepMode.NEVER, SweepMode.LEDGER])
    def test_a_lost_mint_answer_is_not_scanned_for_when_the_sink_forbids_scans(
        self, mode: SweepMode
    ) -> None:
        """sweep: never / ledger is honoured; the person is told what stays unchecked."""
        entry = LedgerEntry(current="a-keep", mint_started=True)
        plan = plan_leftovers(entry, sweep=mode, keep="a-keep", rotation="devvm-token")
        assert not plan.scan
        assert f"sweep: {mode.value} allows no accessor scan" in plan.unchecked
        assert "renewer_rotation=devvm-token" in plan.unchecked

    @pytest.mark.parametrize("mode", [SweepMode.ON_HEAL, SweepMode.ALWAYS])
    def test_a_lost_mint_answer_is_scanned_for_when_the_sink_allows(self, mode: SweepMode) -> None:
        """The scan then selects by the rotation's mark only."""
        entry = LedgerEntry(current="a-keep", mint_started=True)
        assert plan_leftovers(entry, sweep=mode, keep="a-keep", rotation="r").scan


accessors = st.sampled_from(["a1", "a2", "a3", "a-keep", ""])
metas = st.sampled_from(
    [ROTATED, {}, {ROTATION_KEY: "other"}, {LEGACY_ROTATION_KEY: "devvm-token"}]
)
candidates = st.lists(
    st.builds(
        token,
        accessors,
        meta=metas,
        name=st.sampled_from([OURS, "token-oidc-wizard"]),
    )
)


@given(found=candidates, keep=accessors, held=st.frozensets(accessors), journal=st.booleans())
def test_recovery_selects_only_what_the_rotation_issued(
    found: list[TokenInfo], keep: str, held: frozenset[str], journal: bool
) -> None:
    """Whatever Vault lists: only marked by this rotation on this machine (or, from this
    machine's journal, by a release before the marks), ours by name, not kept, not held."""
    selected = select_leftovers(
        found,
        rotation="devvm-token",
        our_display_name=OURS,
        keep=keep,
        owner=OWNER,
        sink=SINK,
        kept=held,
        journal=journal,
    )
    marks = [ROTATED, LEGACY] if journal else [ROTATED]
    proven = {
        info.accessor for info in found if info.metadata in marks and info.display_name == OURS
    }
    assert set(selected) <= proven - {keep, ""} - held
    assert len(selected) == len(set(selected))
    if not keep:
        assert selected == ()


@given(
    pending=st.lists(accessors, max_size=3),
    started=st.booleans(),
    mode=st.sampled_from(list(SweepMode)),
    keep=accessors,
)
def test_a_scan_runs_only_when_a_mint_answer_was_lost_and_the_sink_allows_scans(
    pending: list[str], started: bool, mode: SweepMode, keep: str
) -> None:
    """The journal decides whether to look at all; the sweep setting whether a scan may."""
    entry = LedgerEntry(current=keep, pending=tuple(pending), mint_started=started)
    plan = plan_leftovers(entry, sweep=mode, keep=keep, rotation="r")
    if plan.scan:
        assert started and keep and mode in {SweepMode.ON_HEAL, SweepMode.ALWAYS}
    assert set(plan.confirm) <= set(pending) - {keep, ""}
