"""Tests for renewer.rotation.plan: the next action for every phase, and its safety rules."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from renewer.rotation import machine as m
from renewer.rotation import plan as p

P = m.Phase
NOW = 1_000_000.0


def state(phase: m.Phase = P.BLUE_ACTIVE, **changes: object) -> m.RotationState:
    base = m.RotationState(
        name="r", target="fake", phase=phase, since=NOW - 10, anchor=NOW - 1000, blue="b", green="g"
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def view(identifier: str = "b", *, healthy: bool = True) -> p.SinkView:
    return p.SinkView(identifier=identifier, healthy=healthy, problem="" if healthy else "dead")


def plan(
    phase: m.Phase,
    *,
    sink: p.SinkView | None = None,
    in_hand: bool = False,
    rollback: bool = False,
    due: bool = False,
    now: float = NOW,
    current: str | None = "",
    **changes: object,
) -> p.Action:
    facts = p.Facts(
        sink=sink or view("b"),
        due_at=NOW - 1 if due else NOW + 100,
        green_in_hand=in_hand,
        rollback=rollback,
        current_problem=current,
    )
    return p.plan_step(state(phase, grace_ends_at=NOW + 5, **changes), facts, now=now)


class TestPlan:
    def test_resting_and_not_due_waits_until_due(self) -> None:
        """Nothing happens before the schedule says so."""
        assert plan(P.BLUE_ACTIVE) == p.Wait("not due", until=NOW + 100)

    def test_due_with_a_healthy_sink_issues_with_blues_authority(self) -> None:
        """The cycle starts from the credential in the sink."""
        action = plan(P.BLUE_ACTIVE, due=True, sink=view("b9"))
        assert action == p.Issue("b9")
        assert action.intent == m.Started("b9")

    def test_forced_is_due_whatever_the_schedule(self) -> None:
        """`rotate --now`."""
        facts = p.Facts(sink=view("b"), due_at=None, forced=True, current_problem="")
        assert p.plan_step(state(), facts, now=NOW) == p.Issue("b")

    def test_by_hand_is_never_due_by_itself(self) -> None:
        """No schedule (due_at None) and not forced: whatever the history, wait."""
        facts = p.Facts(sink=view("b"), due_at=None, forced=False, current_problem="")
        failed = state(last_result=m.LastResult.VALIDATION_FAILED, last_failed_at=0.0)
        assert p.plan_step(failed, facts, now=NOW) == p.Wait("not due", until=None)

    def test_the_current_credential_is_checked_before_anything_is_issued(self) -> None:
        """Seed 001: verify the current secret is still valid, then rotate."""
        assert plan(P.BLUE_ACTIVE, due=True, sink=view("b9"), current=None) == p.VerifyCurrent("b9")

    def test_a_current_credential_that_fails_its_check_blocks_the_cycle(self) -> None:
        """Nothing is issued from a blue that does not work; a person looks."""
        action = plan(P.BLUE_ACTIVE, due=True, current="the receiver answered 401")
        assert isinstance(action, p.Refuse)
        assert action.needs_human
        assert "the receiver answered 401" in action.reason

    def test_due_with_an_unhealthy_sink_refuses(self) -> None:
        """Drift or an expired token is the heal's job, not the rotation's."""
        action = plan(P.BLUE_ACTIVE, due=True, sink=view("x", healthy=False))
        assert isinstance(action, p.Refuse)
        assert not action.needs_human
        assert "not healthy (dead)" in action.reason

    def test_an_interrupted_issue_is_swept_not_repeated(self) -> None:
        """GREEN_ISSUING is only ever seen by a later run: sweep, keep the sink's."""
        assert plan(P.GREEN_ISSUING, sink=view("b")) == p.SweepLeftovers(keep="b")

    @pytest.mark.parametrize("phase", [P.GREEN_ISSUED, P.GREEN_VALIDATED, P.PROMOTING])
    def test_resumed_without_the_value_green_is_discarded(self, phase: m.Phase) -> None:
        """A value lost is a value discarded; the cycle restarts afterwards."""
        action = plan(phase)
        assert isinstance(action, p.Discard)
        assert action.green == "g"
        assert isinstance(action.intent, m.GreenLost)

    def test_issued_in_this_process_is_validated(self) -> None:
        """Validation uses green for real before anything else."""
        assert plan(P.GREEN_ISSUED, in_hand=True) == p.Validate("g")

    def test_validated_in_this_process_is_promoted(self) -> None:
        """Promotion persists its intent first."""
        action = plan(P.GREEN_VALIDATED, in_hand=True)
        assert action == p.Promote("g", "b")
        assert action.intent == m.PromotionStarted()

    def test_promotion_that_reached_the_sink_is_confirmed(self) -> None:
        """The run died right after writing green: it is active, keep it."""
        assert plan(P.PROMOTING, sink=view("g")) == p.ConfirmPromoted("g", "b")

    def test_grace_running_waits(self) -> None:
        """Blue stays alive until its grace ends."""
        assert plan(P.GREEN_ACTIVE, sink=view("g")) == p.Wait(
            "blue's grace period is running", until=NOW + 5
        )

    def test_grace_over_revokes_blue(self) -> None:
        """After the grace, blue is revoked by identifier."""
        action = plan(P.GREEN_ACTIVE, sink=view("g"), now=NOW + 5)
        assert action == p.RevokeBlue("b", successor="g", intent=m.GraceEnded())

    def test_grace_over_with_the_sink_replaced_names_the_successor(self) -> None:
        """A heal replaced green during the grace: blue still goes, the heal's token is next."""
        action = plan(P.GREEN_ACTIVE, sink=view("healed"), now=NOW + 5)
        assert action == p.RevokeBlue("b", successor="healed", intent=m.GraceEnded())

    def test_no_blue_needs_no_grace(self) -> None:
        """A first secret-id (nothing before it) finishes at once."""
        action = plan(P.GREEN_ACTIVE, sink=view("g"), blue="")
        assert action == p.RevokeBlue("", successor="g", intent=m.GraceEnded())

    def test_blue_back_in_the_sink_during_the_grace_is_a_rollback(self) -> None:
        """Someone restored blue: green is discarded, blue is never revoked."""
        action = plan(P.GREEN_ACTIVE, sink=view("b"), now=NOW + 999)
        assert isinstance(action, p.Discard)
        assert isinstance(action.intent, m.RolledBack)

    def test_rollback_request_restores_blue_first(self) -> None:
        """`rotate --rollback` in the grace puts blue back; the discard follows."""
        assert plan(P.GREEN_ACTIVE, sink=view("g"), rollback=True) == p.RestoreBlue("b")

    @pytest.mark.parametrize(
        ("phase", "sink"),
        [(P.GREEN_ACTIVE, view("other")), (P.BLUE_REVOKING, view("g"))],
        ids=["green-replaced", "revocation-begun"],
    )
    def test_rollback_that_cannot_be_done_safely_is_refused(
        self, phase: m.Phase, sink: p.SinkView
    ) -> None:
        """A person decides; renewer changes nothing."""
        action = plan(phase, sink=sink, rollback=True)
        assert isinstance(action, p.Refuse)
        assert action.needs_human

    def test_rollback_at_rest_has_nothing_to_do(self) -> None:
        """Nothing in flight: nothing to roll back."""
        assert isinstance(plan(P.BLUE_ACTIVE, rollback=True, due=True), p.Wait)

    @pytest.mark.parametrize("phase", [P.GREEN_ISSUED, P.GREEN_VALIDATED, P.PROMOTING])
    def test_rollback_before_promotion_discards_green(self, phase: m.Phase) -> None:
        """Abandon the cycle: green goes, blue stays."""
        action = plan(phase, rollback=True, in_hand=True)
        assert isinstance(action, p.Discard)
        assert isinstance(action.intent, m.RolledBack)

    def test_blue_back_while_revoking_is_refused(self) -> None:
        """It may be revoked already: a person must look."""
        action = plan(P.BLUE_REVOKING, sink=view("b"))
        assert isinstance(action, p.Refuse)
        assert action.needs_human

    @pytest.mark.parametrize("phase", [P.GREEN_ISSUED, P.GREEN_VALIDATED, P.GREEN_DISCARDING])
    def test_green_in_the_sink_before_promotion_is_never_discarded(self, phase: m.Phase) -> None:
        """Whatever put it there, it is in use now."""
        action = plan(phase, sink=view("g"), in_hand=True)
        assert isinstance(action, p.Refuse)
        assert action.needs_human

    def test_resume_revoking_and_discarding_repeat_their_effect(self) -> None:
        """Idempotent effects are simply repeated after a crash."""
        assert plan(P.BLUE_REVOKING, sink=view("g")) == p.RevokeBlue("b", successor="g")
        assert plan(P.GREEN_DISCARDING, sink=view("b")) == p.Discard("g", "discarding green")

    def test_empty_identifiers_never_match(self) -> None:
        """Not knowing what the sink holds is never 'it holds blue'."""
        empty = state(blue="", green="")
        assert p.classify(empty, view("")) is p.Holder.OTHER

    def test_safety_over_every_phase_and_fact(self) -> None:
        """Exhaustively: never revoke blue while it is in the sink, never discard green in it."""
        for phase, holder, in_hand, rollback, due, late, current in itertools.product(
            m.Phase,
            ["b", "g", "x", ""],
            [False, True],
            [False, True],
            [False, True],
            [0, 99],
            [None, "", "broken"],
        ):
            action = plan(
                phase,
                sink=view(holder, healthy=holder != ""),
                in_hand=in_hand,
                rollback=rollback,
                due=due,
                now=NOW + late,
                current=current,
            )
            if isinstance(action, p.Issue):
                assert current == "", "issued from a blue that was not checked or failed"
            if isinstance(action, p.RevokeBlue):
                assert action.blue != holder or not holder
            if isinstance(action, p.Discard):
                assert action.green != holder


class TestDescribe:
    @pytest.mark.parametrize(
        ("action", "words"),
        [
            (p.Wait("not due"), "nothing to do (not due)"),
            (p.VerifyCurrent("k-1"), "check the current key k-1 still works, then issue"),
            (p.RevokeBlue("k-1", "k-2"), "withdraw the old key k-1"),
            (p.Discard("k-2", "rollback requested"), "withdraw the new key k-2 (rollback"),
        ],
        ids=["wait", "verify", "revoke", "discard"],
    )
    def test_every_action_reads_as_a_sentence(self, action: p.Action, words: str) -> None:
        """`PLAN NAME: would ...` / `nothing to do (...)` — never `would nothing to do`."""
        assert p.describe(action, "key").startswith(words)
