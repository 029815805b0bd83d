"""Tests for renewer.rotation.machine: the table, the plan, and crash/replay properties."""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renewer.rotation import machine as m
from renewer.rotation.drive import drive
from tests.unit.rotation_fakes import Crash, FakeTarget, FakeWorld

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
    m.GreenLost: m.GreenLost(m.LOST),
    m.PromotionStarted: m.PromotionStarted(),
    m.Promoted: m.Promoted(GRACE),
    m.RolledBack: m.RolledBack("rollback requested"),
    m.GraceEnded: m.GraceEnded(),
    m.BlueRevoked: m.BlueRevoked(),
    m.GreenDiscarded: m.GreenDiscarded(),
}


def state(phase: m.Phase = P.BLUE_ACTIVE, **changes: object) -> m.RotationState:
    base = m.RotationState(
        name="r", target="fake", phase=phase, since=NOW - 10, anchor=NOW - 1000, blue="b", green="g"
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def view(identifier: str = "b", *, healthy: bool = True) -> m.SinkView:
    return m.SinkView(identifier=identifier, healthy=healthy, problem="" if healthy else "dead")


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
        after = m.apply(revoking, m.BlueRevoked(), now=NOW)
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


def plan(
    phase: m.Phase,
    *,
    sink: m.SinkView | None = None,
    in_hand: bool = False,
    rollback: bool = False,
    due: bool = False,
    now: float = NOW,
    **changes: object,
) -> m.Action:
    facts = m.Facts(
        sink=sink or view("b"),
        due_at=NOW - 1 if due else NOW + 100,
        green_in_hand=in_hand,
        rollback=rollback,
    )
    return m.plan_step(state(phase, grace_ends_at=NOW + 5, **changes), facts, now=now)


class TestPlan:
    def test_resting_and_not_due_waits_until_due(self) -> None:
        """Nothing happens before the schedule says so."""
        assert plan(P.BLUE_ACTIVE) == m.Wait("not due", until=NOW + 100)

    def test_due_with_a_healthy_sink_issues_with_blues_authority(self) -> None:
        """The cycle starts from the credential in the sink."""
        action = plan(P.BLUE_ACTIVE, due=True, sink=view("b9"))
        assert action == m.Issue("b9")
        assert action.intent == m.Started("b9")

    def test_forced_is_due_whatever_the_schedule(self) -> None:
        """`rotate --now`."""
        facts = m.Facts(sink=view("b"), due_at=None, forced=True)
        assert m.plan_step(state(), facts, now=NOW) == m.Issue("b")

    def test_due_with_an_unhealthy_sink_refuses(self) -> None:
        """Drift or an expired token is the heal's job, not the rotation's."""
        action = plan(P.BLUE_ACTIVE, due=True, sink=view("x", healthy=False))
        assert isinstance(action, m.Refuse)
        assert not action.needs_human
        assert "not healthy (dead)" in action.reason

    def test_an_interrupted_issue_is_swept_not_repeated(self) -> None:
        """GREEN_ISSUING is only ever seen by a later run: sweep, keep the sink's."""
        assert plan(P.GREEN_ISSUING, sink=view("b")) == m.SweepLeftovers(keep="b")

    @pytest.mark.parametrize("phase", [P.GREEN_ISSUED, P.GREEN_VALIDATED, P.PROMOTING])
    def test_resumed_without_the_value_green_is_discarded(self, phase: m.Phase) -> None:
        """A value lost is a value discarded; the cycle restarts afterwards."""
        action = plan(phase)
        assert isinstance(action, m.Discard)
        assert action.green == "g"
        assert isinstance(action.intent, m.GreenLost)

    def test_issued_in_this_process_is_validated(self) -> None:
        """Validation uses green for real before anything else."""
        assert plan(P.GREEN_ISSUED, in_hand=True) == m.Validate("g")

    def test_validated_in_this_process_is_promoted(self) -> None:
        """Promotion persists its intent first."""
        action = plan(P.GREEN_VALIDATED, in_hand=True)
        assert action == m.Promote("g", "b")
        assert action.intent == m.PromotionStarted()

    def test_promotion_that_reached_the_sink_is_confirmed(self) -> None:
        """The run died right after writing green: it is active, keep it."""
        assert plan(P.PROMOTING, sink=view("g")) == m.ConfirmPromoted("g", "b")

    def test_grace_running_waits(self) -> None:
        """Blue stays alive until its grace ends."""
        assert plan(P.GREEN_ACTIVE, sink=view("g")) == m.Wait(
            "blue's grace period is running", until=NOW + 5
        )

    def test_grace_over_revokes_blue(self) -> None:
        """After the grace, blue is revoked by identifier."""
        action = plan(P.GREEN_ACTIVE, sink=view("g"), now=NOW + 5)
        assert action == m.RevokeBlue("b", intent=m.GraceEnded())

    def test_no_blue_needs_no_grace(self) -> None:
        """A first secret-id (nothing before it) finishes at once."""
        action = plan(P.GREEN_ACTIVE, sink=view("g"), blue="")
        assert action == m.RevokeBlue("", intent=m.GraceEnded())

    def test_blue_back_in_the_sink_during_the_grace_is_a_rollback(self) -> None:
        """Someone restored blue: green is discarded, blue is never revoked."""
        action = plan(P.GREEN_ACTIVE, sink=view("b"), now=NOW + 999)
        assert isinstance(action, m.Discard)
        assert isinstance(action.intent, m.RolledBack)

    def test_rollback_request_restores_blue_first(self) -> None:
        """`rotate --rollback` in the grace puts blue back; the discard follows."""
        assert plan(P.GREEN_ACTIVE, sink=view("g"), rollback=True) == m.RestoreBlue("b")

    @pytest.mark.parametrize(
        ("phase", "sink"),
        [(P.GREEN_ACTIVE, view("other")), (P.BLUE_REVOKING, view("g"))],
        ids=["green-replaced", "revocation-begun"],
    )
    def test_rollback_that_cannot_be_done_safely_is_refused(
        self, phase: m.Phase, sink: m.SinkView
    ) -> None:
        """A person decides; renewer changes nothing."""
        action = plan(phase, sink=sink, rollback=True)
        assert isinstance(action, m.Refuse)
        assert action.needs_human

    def test_rollback_at_rest_has_nothing_to_do(self) -> None:
        """Nothing in flight: nothing to roll back."""
        assert isinstance(plan(P.BLUE_ACTIVE, rollback=True, due=True), m.Wait)

    @pytest.mark.parametrize("phase", [P.GREEN_ISSUED, P.GREEN_VALIDATED, P.PROMOTING])
    def test_rollback_before_promotion_discards_green(self, phase: m.Phase) -> None:
        """Abandon the cycle: green goes, blue stays."""
        action = plan(phase, rollback=True, in_hand=True)
        assert isinstance(action, m.Discard)
        assert isinstance(action.intent, m.RolledBack)

    def test_blue_back_while_revoking_is_refused(self) -> None:
        """It may be revoked already: a person must look."""
        action = plan(P.BLUE_REVOKING, sink=view("b"))
        assert isinstance(action, m.Refuse)
        assert action.needs_human

    @pytest.mark.parametrize("phase", [P.GREEN_ISSUED, P.GREEN_VALIDATED, P.GREEN_DISCARDING])
    def test_green_in_the_sink_before_promotion_is_never_discarded(self, phase: m.Phase) -> None:
        """Whatever put it there, it is in use now."""
        action = plan(phase, sink=view("g"), in_hand=True)
        assert isinstance(action, m.Refuse)
        assert action.needs_human

    def test_resume_revoking_and_discarding_repeat_their_effect(self) -> None:
        """Idempotent effects are simply repeated after a crash."""
        assert plan(P.BLUE_REVOKING, sink=view("g")) == m.RevokeBlue("b")
        assert plan(P.GREEN_DISCARDING, sink=view("b")) == m.Discard("g", "discarding green")

    def test_empty_identifiers_never_match(self) -> None:
        """Not knowing what the sink holds is never 'it holds blue'."""
        empty = state(blue="", green="")
        assert m.classify(empty, view("")) is m.Holder.OTHER

    def test_safety_over_every_phase_and_fact(self) -> None:
        """Exhaustively: never revoke blue while it is in the sink, never discard green in it."""
        for phase, holder, in_hand, rollback, due, late in itertools.product(
            m.Phase, ["b", "g", "x", ""], [False, True], [False, True], [False, True], [0, 99]
        ):
            action = plan(
                phase,
                sink=view(holder, healthy=holder != ""),
                in_hand=in_hand,
                rollback=rollback,
                due=due,
                now=NOW + late,
            )
            if isinstance(action, m.RevokeBlue):
                assert action.blue != holder or not holder
            if isinstance(action, m.Discard):
                assert action.green != holder


# --- crash/replay properties: the machine driven as the shell drives it -------


def due_at(rotation: m.RotationState) -> float | None:
    """Every 100 s after the last completed cycle; a failure retries 30 s later."""
    if rotation.last_result.failed and rotation.last_failed_at is not None:
        return rotation.last_failed_at + 30
    return (rotation.due_base or rotation.anchor) + 100


@st.composite
def runs(draw: st.DrawFn) -> list[tuple[int, bool, int | None, bool, bool]]:
    """Runs: (seconds since the last run, forced, crash at checkpoint n, bad green, rollback)."""
    return draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=120),
                st.booleans(),
                st.none() | st.integers(min_value=0, max_value=12),
                st.booleans(),
                st.booleans(),
            ),
            min_size=1,
            max_size=14,
        )
    )


class Disk:
    """The persisted state, as a state file would keep it across a kill -9."""

    def __init__(self, initial: m.RotationState) -> None:
        self.state = initial

    def save(self, rotation: m.RotationState) -> None:
        self.state = rotation


def crash_at(index: int | None) -> tuple[list[str], object]:
    seen: list[str] = []

    def checkpoint(point: str) -> None:
        seen.append(point)
        if index is not None and len(seen) - 1 == index:
            raise Crash(point)

    return seen, checkpoint


@settings(max_examples=300, deadline=None)
@given(schedule=runs())
def test_crashes_and_replays_never_revoke_the_active_or_leave_two(
    schedule: list[tuple[int, bool, int | None, bool, bool]],
) -> None:
    """Random runs, kill -9 at random points, rollbacks and bad greens: the sink is always
    alive, and a completed run at rest (or past the grace) leaves exactly one credential."""
    world = FakeWorld()
    now = NOW
    disk = Disk(m.new_state("r", "fake", now=now))
    for advance, forced, crash, bad, rollback in schedule:
        now += advance
        world.fail_next_validation = bad
        _, checkpoint = crash_at(crash)
        target = FakeTarget(world, checkpoint=checkpoint)  # type: ignore[arg-type]
        try:
            report = drive(
                disk.state,
                target,
                persist=disk.save,
                now=now,
                grace=GRACE,
                due_at=due_at,
                forced=forced,
                rollback=rollback,
                checkpoint=checkpoint,  # type: ignore[arg-type]
            )
        except Crash:
            assert world.sink in world.live, "the active credential was revoked"
            continue
        final = report.final
        assert final == disk.state
        assert world.sink in world.live, "the active credential was revoked"
        if final.in_flight:  # only a rollback asked too late stops a run mid-phase
            assert rollback and isinstance(report.stopped, m.Refuse), final.phase
            continue
        if final.phase is m.Phase.BLUE_ACTIVE:
            assert world.live == {world.sink}, "two credentials alive at rest"
            assert final.green == ""
        else:
            assert world.sink == final.green
            assert world.live <= {final.blue, final.green}
            assert final.grace_ends_at is not None and now < final.grace_ends_at
    assert len(world.revoked) == len(set(world.revoked))


@settings(max_examples=100, deadline=None)
@given(crash=st.integers(min_value=0, max_value=9), bad=st.booleans())
def test_resume_from_every_crash_point_completes_one_cycle(crash: int, bad: bool) -> None:
    """kill -9 at checkpoint n of a forced cycle, then plain runs: exactly one credential
    is left, the sink's; when the cycle completed, blue was revoked exactly once."""
    world = FakeWorld(bad={"k1"} if bad else set())
    disk = Disk(m.new_state("r", "fake", now=NOW))
    _, checkpoint = crash_at(crash)
    with contextlib.suppress(Crash):
        drive(
            disk.state,
            FakeTarget(world, checkpoint=checkpoint),  # type: ignore[arg-type]
            persist=disk.save,
            now=NOW,
            grace=0,
            due_at=lambda _: None,
            forced=True,
            checkpoint=checkpoint,  # type: ignore[arg-type]
        )
    for later in (1, 2):
        drive(
            disk.state,
            FakeTarget(world),
            persist=disk.save,
            now=NOW + later,
            grace=0,
            due_at=lambda _: None,
        )
    assert world.live == {world.sink}
    assert not disk.state.in_flight
    if disk.state.last_result is m.LastResult.COMPLETED:
        assert (world.sink, world.revoked) == ("k1", ["k0"])
    else:
        assert world.sink == "k0"
        assert "k0" not in world.revoked
