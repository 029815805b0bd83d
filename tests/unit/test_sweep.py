"""Tests for renewer.core.sweep: values in, values out, no fixtures."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.model import SweepMode, TokenInfo
from renewer.core.owner import Ownership, ownership
from renewer.core.sweep import (
    BY_LEDGER,
    BY_SCAN,
    ONLY_MINE,
    SweepReport,
    is_stale,
    scan_scope,
    select_stale,
)
from tests.strategies import METAS, OURS, OWNER, SINK, accessors, token_infos


def token(accessor: str, display_name: str = OURS) -> TokenInfo:
    return TokenInfo(accessor=accessor, display_name=display_name, policies=frozenset())


@pytest.mark.floor(17)
class TestSelectStale:
    def test_old_tokens_are_selected_and_the_kept_one_is_not(self) -> None:
        """Our earlier tokens are stale; the current one survives."""
        tokens = [token("a-old1"), token("a-keep"), token("a-old2"), token("a-old1")]

        stale = select_stale(tokens, our_display_name=OURS, keep_accessor="a-keep")

        assert stale == ("a-old1", "a-old2")

    @pytest.mark.parametrize(
        "candidate",
        [
            token("a-x", display_name="token-oidc-alice"),
            token("a-x", display_name="kubernetes-woodpecker-default"),
            token(""),
        ],
        ids=["foreign-oidc", "foreign-woodpecker", "unknown-accessor"],
    )
    def test_unprovable_tokens_are_never_selected(self, candidate: TokenInfo) -> None:
        """A token we cannot prove is ours is left alone (seed 003 cases)."""
        assert select_stale([candidate], our_display_name=OURS, keep_accessor="a-keep") == ()

    def test_empty_keep_accessor_selects_nothing(self) -> None:
        """Not knowing the current token is a reason to revoke nothing."""
        assert select_stale([token("a-old")], our_display_name=OURS, keep_accessor="") == ()

    def test_the_just_minted_token_is_kept(self) -> None:
        """Seed: `no "the just-minted token is kept"`."""
        assert not is_stale(token("acc-new"), our_display_name=OURS, keep_accessor="acc-new")

    def test_an_older_periodic_token_is_stale(self) -> None:
        """Seed: `ok "older periodic token is stale"`."""
        assert is_stale(token("acc-old"), our_display_name=OURS, keep_accessor="acc-new")

    def test_policies_are_not_compared(self) -> None:
        """A leftover with different policies is still ours by name and marks: swept."""
        leftover = TokenInfo(accessor="a-old", display_name=OURS, policies=frozenset({"reader"}))
        assert select_stale([leftover], our_display_name=OURS, keep_accessor="a-k") == ("a-old",)


MODES = st.sampled_from([BY_SCAN, BY_LEDGER])


@given(candidates=st.lists(token_infos()), keep=accessors, mode=MODES)
def test_sweep_selects_only_our_other_known_tokens(
    candidates: list[TokenInfo], keep: str, mode: frozenset[Ownership]
) -> None:
    """Whatever Vault lists, nothing outside 'ours, known, not kept' is revoked."""
    stale = select_stale(
        candidates,
        our_display_name=OURS,
        keep_accessor=keep,
        owner=OWNER,
        sink=SINK,
        may_revoke=mode,
    )

    ours = {c.accessor for c in candidates if c.display_name == OURS}
    assert set(stale) <= ours - {keep, ""}
    assert len(stale) == len(set(stale))
    if not keep:
        assert stale == ()


@given(candidates=st.lists(token_infos()), keep=accessors, mode=MODES)
def test_another_renewers_token_is_never_selected(
    candidates: list[TokenInfo], keep: str, mode: frozenset[Ownership]
) -> None:
    """Issue 15, item 2: two machines, one Vault. A token marked by another machine, home
    or sink is never revoked, by the full scan or by the ledger sweep."""
    stale = set(
        select_stale(
            candidates,
            our_display_name=OURS,
            keep_accessor=keep,
            owner=OWNER,
            sink=SINK,
            may_revoke=mode,
        )
    )
    for candidate in candidates:
        if ownership(candidate.metadata, owner=OWNER, sink=SINK) is Ownership.ELSEWHERE:
            others = [c for c in candidates if c.accessor == candidate.accessor and c != candidate]
            if not others:
                assert candidate.accessor not in stale


@given(candidates=st.lists(token_infos()), keep=accessors.filter(bool))
def test_every_stale_token_of_ours_is_selected(candidates: list[TokenInfo], keep: str) -> None:
    """And nothing of ours that is stale is missed: the filter is exact (full scan's rule:
    this machine and sink, or no renewer mark at all)."""
    stale = set(
        select_stale(candidates, our_display_name=OURS, keep_accessor=keep, owner=OWNER, sink=SINK)
    )

    expected = {
        c.accessor
        for c in candidates
        if c.display_name == OURS
        and c.accessor not in {keep, ""}
        and ownership(c.metadata, owner=OWNER, sink=SINK) in {Ownership.MINE, Ownership.UNMARKED}
    }
    assert stale == expected


@pytest.mark.parametrize(
    ("marks", "by_scan", "by_ledger"),
    [
        ("mine", True, True),
        ("unmarked", True, True),
        ("someone's label", True, True),
        ("pre-marks release", False, True),
        ("other machine", False, False),
        ("other sink", False, False),
    ],
)
def test_who_may_revoke_what(marks: str, by_scan: bool, by_ledger: bool) -> None:
    """The table of renewer.core.sweep: the scan spares pre-marks tokens (their machine is
    unknown); only the ledger, which saw them in this machine's own file, retires them."""
    info = TokenInfo(accessor="a-old", display_name=OURS, policies=frozenset(), meta=METAS[marks])

    def stale(mode: frozenset[Ownership]) -> bool:
        return is_stale(
            info,
            our_display_name=OURS,
            keep_accessor="a-k",
            owner=OWNER,
            sink=SINK,
            may_revoke=mode,
        )

    assert (stale(BY_SCAN), stale(BY_LEDGER)) == (by_scan, by_ledger)


def test_without_an_owner_every_marked_token_is_spared() -> None:
    """The defaults are the safe ones: a caller that forgets who it is revokes less."""
    info = TokenInfo(accessor="a", display_name=OURS, policies=frozenset(), meta=METAS["mine"])
    assert not is_stale(info, our_display_name=OURS, keep_accessor="k")


class TestAlsoKeep:
    def test_held_accessors_are_never_selected(self) -> None:
        """A blue token in its grace period is ours and stale-looking, yet kept."""
        tokens = [token("a-blue"), token("a-old")]
        stale = select_stale(
            tokens, our_display_name=OURS, keep_accessor="a-green", also_keep=frozenset({"a-blue"})
        )
        assert stale == ("a-old",)


class TestScanScope:
    @pytest.mark.parametrize(
        ("mode", "by_hand", "scope"),
        [
            (SweepMode.ON_HEAL, False, BY_SCAN),
            (SweepMode.ALWAYS, False, BY_SCAN),
            (SweepMode.LEDGER, False, ONLY_MINE),
            (SweepMode.NEVER, False, ONLY_MINE),
            (SweepMode.ON_HEAL, True, BY_SCAN),
            (SweepMode.ALWAYS, True, BY_SCAN),
            (SweepMode.LEDGER, True, BY_SCAN),
            (SweepMode.NEVER, True, BY_SCAN),
        ],
    )
    def test_strays_are_swept_only_where_full_scans_were_chosen(
        self, mode: SweepMode, by_hand: bool, scope: frozenset[Ownership]
    ) -> None:
        """A scan run only to find a lost mint revokes nothing but this machine's marked tokens."""
        assert scan_scope(mode, by_hand=by_hand) == scope

    def test_no_scope_ever_reaches_another_renewers_token(self) -> None:
        """Whatever the mode, ELSEWHERE and LEGACY tokens are out of every scan's reach."""
        for mode in SweepMode:
            for by_hand in (False, True):
                scope = scan_scope(mode, by_hand=by_hand)
                assert Ownership.ELSEWHERE not in scope
                assert Ownership.LEGACY not in scope


class TestSweepReport:
    def test_strays_left_alone_are_said_with_the_command_that_sweeps_them(self) -> None:
        """The count of unmarked tokens a ledger-only scan spared reaches the HEALED line."""
        report = SweepReport(revoked=("a-1",), ours_remaining=1).merge(SweepReport(unmarked_kept=2))

        assert report.unmarked_kept == 2
        assert "2 token(s) with our name but no renewer marks left alone" in report.describe()
        assert "renewer sweep NAME --full" in report.describe()
