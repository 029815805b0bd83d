"""Tests for renewer.rotation.machine: the table, the bookkeeping, and what status is told."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from renewer.rotation import machine as m
from renewer.rotation import plan as p

P = m.Phase
NOW = 1_000_000.0
GRACE = 50

SAMPLES: dict[type[m.Event], m.Event] = {
    m.Started: m.Started("blue-1"),
    m.Issued: m.Issued("green-1"),
    m.IssueRefused: m.IssueRefused("permission denied"),
    m.LeftoversSwept: m.LeftoversSwept(),
    m.Validated: m.Validated(),
    m.ValidationFailed: m.ValidationFailed("login refused"),
    m.GreenLost: m.GreenLost(p.LOST),
    m.PromotionStarted: m.PromotionStarted(),
    m.Promoted: m.Promoted(GRACE),
    m.RolledBack: m.RolledBack("rollback requested"),
    m.GraceEnded: m.GraceEnded(),
    m.BlueRevoked: m.BlueRevoked("green-1"),
    m.HookFailed: m.HookFailed("hook exited 3"),
    m.GreenDiscarded: m.GreenDiscarded(),
}


def state(phase: m.Phase = P.BLUE_ACTIVE, **changes: object) -> m.RotationState:
    base = m.RotationState(
        name="r", target="fake", phase=phase, since=NOW - 10, anchor=NOW - 1000, blue="b", green="g"
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class TestTable:
    def test_every_event_type_has_a_sample(self) -> None:
        """The samples below cover every event of the table."""
        assert {event for _, event in m.TABLE} == set(SAMPLES)

    @pytest.mark.parametrize(
        ("phase", "event_type", "expected"),
        [(phase, event, after) for (phase, event), after in m.TABLE.items()],
        ids=[f"{phase.value}-{event.__name__}" for phase, event in m.TABLE],
    )
    def test_each_entry_moves_to_its_phase(
        self, phase: m.Phase, event_type: type[m.Event], expected: m.Phase
    ) -> None:
        """Every table entry does what the table says."""
        after = m.apply(state(phase), SAMPLES[event_type], now=NOW)
        assert after.phase is expected

    def test_every_other_pair_is_illegal(self) -> None:
        """Anything the table does not allow is refused, for every phase and event."""
        for phase, event_type in itertools.product(m.Phase, SAMPLES):
            if (phase, event_type) in m.TABLE:
                continue
            with pytest.raises(m.IllegalTransition, match=phase.value):
                m.apply(state(phase), SAMPLES[event_type], now=NOW)

    def test_every_phase_is_reachable_and_can_return_to_rest(self) -> None:
        """No dead ends: each phase has a way out and a way in."""
        sources = {phase for phase, _ in m.TABLE}
        targets = set(m.TABLE.values())
        assert sources == set(m.Phase)
        assert targets == set(m.Phase)


class TestBookkeeping:
    def test_started_records_blue_and_clears_green(self) -> None:
        """A cycle starts from the sink's credential, with no green yet."""
        after = m.apply(state(green="old"), m.Started("b2"), now=NOW)
        assert (after.blue, after.green, after.last_started_at, after.since) == ("b2", "", NOW, NOW)

    def test_promoted_starts_the_grace(self) -> None:
        """Blue lives on for exactly the grace period from the promotion."""
        after = m.apply(state(P.PROMOTING), m.Promoted(GRACE), now=NOW)
        assert (after.grace_ends_at, after.last_promoted_at) == (NOW + GRACE, NOW)

    def test_blue_revoked_makes_green_the_next_blue(self) -> None:
        """BLUE_REVOKED is the next cycle's BLUE_ACTIVE: green becomes blue."""
        revoking = state(P.BLUE_REVOKING, last_started_at=NOW - 500, cycles=2)
        after = m.apply(revoking, m.BlueRevoked("g"), now=NOW)
        assert (after.phase, after.blue, after.green, after.cycles) == (P.BLUE_ACTIVE, "g", "", 3)
        assert (after.due_base, after.last_result) == (NOW - 500, m.LastResult.COMPLETED)

    def test_validation_failure_is_recorded_until_green_is_gone(self) -> None:
        """The failure survives the discard, so status and the retry policy see it."""
        failed = m.apply(state(P.GREEN_ISSUED), m.ValidationFailed("refused"), now=NOW)
        after = m.apply(failed, m.GreenDiscarded(), now=NOW + 1)
        assert (after.last_result, after.last_error) == (m.LastResult.VALIDATION_FAILED, "refused")
        assert (after.last_failed_at, after.green, after.blue) == (NOW, "", "b")

    def test_rollback_consumes_the_current_fire(self) -> None:
        """After a rollback the next cycle waits for the next regular time."""
        after = m.apply(state(P.GREEN_ACTIVE), m.RolledBack("asked"), now=NOW)
        assert (after.due_base, after.last_result) == (NOW, m.LastResult.ROLLED_BACK)

    def test_same_phase_keeps_since(self) -> None:
        """`since` is when the phase was entered; the table never loops, so it always moves."""
        after = m.apply(state(P.GREEN_ISSUING), m.Issued("g2"), now=NOW)
        assert after.since == NOW

    def test_blue_revoked_takes_the_sinks_credential_as_the_next_blue(self) -> None:
        """A heal replaced green during the grace: the next cycle starts from what the sink holds,
        not from a green that is gone."""
        after = m.apply(state(P.BLUE_REVOKING), m.BlueRevoked("healed"), now=NOW)
        assert (after.blue, after.green, after.last_result) == (
            "healed",
            "",
            m.LastResult.COMPLETED,
        )

    def test_a_hook_failure_is_a_failed_cycle_of_its_own_kind(self) -> None:
        """Green could not be applied: withdrawn, and the retry policy treats it as a failure."""
        failed = m.apply(state(P.GREEN_ISSUED), m.HookFailed("exit 3"), now=NOW)
        assert failed.phase is P.GREEN_DISCARDING
        assert (failed.last_result, failed.last_error, failed.last_failed_at) == (
            m.LastResult.HOOK_FAILED,
            "exit 3",
            NOW,
        )
        assert failed.last_result.failed
