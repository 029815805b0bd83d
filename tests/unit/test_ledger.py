"""Tests for renewer.core.ledger: transitions and crash recovery, without I/O."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from renewer.core import ledger
from renewer.core.ledger import LedgerEntry


class TestTransitions:
    def test_a_heal_supersedes_the_previous_token(self) -> None:
        """begin → minted → committed: the old current is to be swept, the new one kept."""
        entry = LedgerEntry(current="a-old")
        entry = ledger.minted(ledger.begin_mint(entry), "a-new")
        assert entry.pending == ("a-new",)
        assert not entry.mint_started
        entry = ledger.committed(entry, "a-new")
        assert entry == LedgerEntry(current="a-new", superseded=("a-old",))
        assert entry.sweep_candidates() == ("a-old",)

    def test_a_crash_between_mint_and_write_is_adopted_when_the_file_was_written(self) -> None:
        """The file holds the pending token: adopt it, supersede the old one."""
        entry = ledger.minted(LedgerEntry(current="a-old"), "a-new")
        assert ledger.reconcile(entry, "a-new") == LedgerEntry(
            current="a-new", superseded=("a-old",)
        )

    def test_a_crash_before_the_write_makes_the_minted_token_stale(self) -> None:
        """The file still holds something else: the pending token is revoked next time."""
        entry = ledger.minted(LedgerEntry(current="a-old"), "a-new")
        repaired = ledger.reconcile(entry, "a-old")
        assert repaired.pending == ()
        assert repaired.sweep_candidates() == ("a-new",)

    def test_observing_a_new_healthy_token_supersedes_the_old(self) -> None:
        """A token of ours minted elsewhere (renewer mint) becomes current."""
        entry = ledger.observe(LedgerEntry(current="a-1"), "a-2")
        assert (entry.current, entry.superseded) == ("a-2", ("a-1",))

    def test_observing_the_same_token_changes_nothing(self) -> None:
        """The healthy path is idempotent."""
        entry = LedgerEntry(current="a-1", superseded=("a-0",))
        assert ledger.observe(entry, "a-1") == entry

    def test_revoked_accessors_are_forgotten(self) -> None:
        """Once gone from Vault they are no longer candidates."""
        entry = LedgerEntry(current="a-2", superseded=("a-0", "a-1"))
        assert ledger.revoked(entry, "a-0").sweep_candidates() == ("a-1",)

    def test_an_earlier_lost_mint_outlives_a_later_successful_one(self) -> None:
        """A lost answer, then a mint that works: the flag stays until a full scan covers it."""
        lost = ledger.begin_mint(LedgerEntry(current="a-old"))
        entry = ledger.minted(ledger.begin_mint(lost), "a-new", unrecorded_before=True)
        assert entry.mint_started
        entry = ledger.committed(entry, "a-new")
        assert entry.mint_started and entry.current == "a-new"
        assert not ledger.forget_mint_attempt(entry).mint_started

    def test_a_denied_mint_clears_the_intent(self) -> None:
        """Vault refused: nothing was created, no full scan is owed."""
        entry = ledger.forget_mint_attempt(ledger.begin_mint(LedgerEntry()))
        assert not entry.mint_started


operations = st.lists(
    st.one_of(
        st.tuples(st.just("observe"), st.sampled_from(["a", "b", "c"])),
        st.tuples(st.just("begin"), st.just("")),
        st.tuples(st.just("minted"), st.sampled_from(["m1", "m2", "m3"])),
        st.tuples(st.just("committed"), st.sampled_from(["m1", "m2", "m3"])),
        st.tuples(st.just("abandoned"), st.sampled_from(["m1", "m2", "m3"])),
        st.tuples(st.just("reconcile"), st.sampled_from(["", "a", "m1", "m2"])),
        st.tuples(st.just("revoked"), st.sampled_from(["a", "b", "m1"])),
    ),
    max_size=30,
)


def apply(entry: LedgerEntry, operation: tuple[str, str]) -> LedgerEntry:
    name, accessor = operation
    if name == "observe":
        return ledger.observe(entry, accessor)
    if name == "begin":
        return ledger.begin_mint(entry)
    if name == "reconcile":
        return ledger.reconcile(entry, accessor)
    if name == "revoked":
        return ledger.revoked(entry, accessor)
    return getattr(ledger, name)(entry, accessor)  # type: ignore[no-any-return]


@given(history=operations)
def test_the_current_token_is_never_a_sweep_candidate(history: list[tuple[str, str]]) -> None:
    """Whatever happened (crashes replayed as any sequence), the kept token is never a candidate."""
    entry = LedgerEntry()
    for operation in history:
        entry = apply(entry, operation)
        assert entry.current not in entry.sweep_candidates()
        assert "" not in entry.sweep_candidates()
        assert len(entry.sweep_candidates()) == len(set(entry.sweep_candidates()))


@given(history=operations)
def test_no_minted_accessor_is_ever_lost(history: list[tuple[str, str]]) -> None:
    """A minted accessor stays current, pending or a candidate until Vault confirms it gone."""
    entry = LedgerEntry()
    minted: set[str] = set()
    for operation in history:
        name, accessor = operation
        entry = apply(entry, operation)
        if name == "minted":
            minted.add(accessor)
        if name in {"revoked", "abandoned"}:
            minted.discard(accessor)
        known = {entry.current, *entry.pending, *entry.superseded}
        assert minted <= known


class TestHold:
    def test_a_held_accessor_is_never_a_candidate_until_released(self) -> None:
        """A rotation's blue token survives sweeps through its grace period."""
        entry = ledger.committed(ledger.hold(LedgerEntry(current="a-blue"), "a-blue"), "a-green")
        assert entry.current == "a-green"
        assert entry.sweep_candidates() == ()
        assert entry.kept() == frozenset({"a-green", "a-blue"})
        released = ledger.release(entry, "a-blue")
        assert released.sweep_candidates() == ("a-blue",)
        assert released.kept() == frozenset({"a-green"})

    def test_revoking_a_held_accessor_forgets_it(self) -> None:
        """After the grace the rotation revokes blue: nothing left to hold."""
        entry = ledger.hold(LedgerEntry(current="a-green"), "a-blue")
        assert ledger.revoked(entry, "a-blue").held == ()


@given(history=operations, held=st.sampled_from(["a", "b", "m1"]))
def test_a_held_accessor_is_never_a_candidate(history: list[tuple[str, str]], held: str) -> None:
    """After a hold, it is not proposed for revocation until released (or current again)."""
    entry = ledger.hold(LedgerEntry(), held)
    for operation in history:
        if operation == ("revoked", held):
            continue
        entry = apply(entry, operation)
        if entry.current == held:
            break  # current again: the hold has done its job
        assert held not in entry.sweep_candidates()
