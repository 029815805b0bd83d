"""What a rotation should do next: observations in, one action out.

Pure: stdlib only. The shell observes the sink (:class:`SinkView`), gathers
the other :class:`Facts`, asks :func:`plan_step` for the one next action,
persists the action's *intent* event (``machine.apply``), performs it, and
asks again. The rules the plan keeps (the machine's are in
:mod:`renewer.rotation.machine`):

1. **The sink is the truth about what is active.** The plan never revokes
   blue while the sink holds blue, and never discards green while the sink
   holds green: those two refusals are what "never revoke the active
   credential" means. An empty identifier never matches: not knowing is
   never "it is blue".

2. **The current credential is checked before a cycle starts** (seed 001:
   "verify the current secret is still valid"). A due rotation first asks
   the target to use blue for real (:class:`VerifyCurrent`); a blue that does
   not work is a person's problem, and no new credential is issued from it.

3. **By hand means by hand.** Only the schedule (``Facts.due_at``) or a
   person (``forced``) starts a cycle; a cycle in flight is always resumed.

The actions it chooses from are in :mod:`renewer.rotation.actions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from renewer.rotation.actions import (
    Action,
    ConfirmPromoted,
    Discard,
    Issue,
    Promote,
    Refuse,
    RestoreBlue,
    RevokeBlue,
    SweepLeftovers,
    Validate,
    VerifyCurrent,
    Wait,
    describe,
)
from renewer.rotation.events import GraceEnded, GreenLost, RolledBack
from renewer.rotation.machine import Phase, RotationState

# The actions live in renewer.rotation.actions; the shell and the tests read them as p.<Action>.
__all__ = [
    "LOST",
    "NOT_PROMOTED",
    "ROLLBACK_ASKED",
    "Action",
    "ConfirmPromoted",
    "Discard",
    "Facts",
    "Holder",
    "Issue",
    "Promote",
    "Refuse",
    "RestoreBlue",
    "RevokeBlue",
    "SinkView",
    "SweepLeftovers",
    "Validate",
    "VerifyCurrent",
    "Wait",
    "classify",
    "describe",
    "plan_step",
]


@dataclass(frozen=True, slots=True)
class SinkView:
    """What the sink holds right now, as the target saw it (read-only)."""

    identifier: str  # of the credential in the sink; "" when none, unreadable or dead
    healthy: bool  # fit to be the blue a cycle starts from
    problem: str = ""  # why not healthy, for messages


class Holder(Enum):
    """Whose credential the sink holds, from the rotation's point of view."""

    BLUE = "blue"
    GREEN = "green"
    OTHER = "other"  # someone else's, none, or unknown: never blue nor green


def classify(state: RotationState, sink: SinkView) -> Holder:
    """An empty identifier never matches: not knowing is never 'it is blue'."""
    if sink.identifier and sink.identifier == state.green:
        return Holder.GREEN
    if sink.identifier and sink.identifier == state.blue:
        return Holder.BLUE
    return Holder.OTHER


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything :func:`plan_step` needs besides the state and the clock."""

    sink: SinkView
    due_at: float | None = None  # next due time by the schedule; None: never by schedule
    forced: bool = False  # `rotate --now`
    green_in_hand: bool = False  # this process holds green's value
    rollback: bool = False  # `rotate --rollback`
    current_problem: str | None = None  # blue used for real: None not yet, "" fine, else why not

    def due(self, now: float) -> bool:
        return self.forced or (self.due_at is not None and self.due_at <= now)


LOST = "green's value was lost: the run that issued it stopped before promoting it"
NOT_PROMOTED = "the promotion did not reach the sink before the run stopped"
ROLLBACK_ASKED = "rollback requested"


def plan_step(state: RotationState, facts: Facts, *, now: float) -> Action:
    """The one next thing to do for *state*, given what the shell observed at *now*."""
    holder = classify(state, facts.sink)
    phase = state.phase
    if phase is Phase.BLUE_ACTIVE:
        return _plan_resting(facts, now)
    if phase is Phase.GREEN_ISSUING:
        return SweepLeftovers(keep=facts.sink.identifier)
    if phase is Phase.GREEN_DISCARDING:
        if holder is Holder.GREEN:
            return Refuse(_green_in_sink(state), needs_human=True)
        return Discard(state.green, state.last_error or "discarding green")
    if phase is Phase.BLUE_REVOKING:
        if holder is Holder.BLUE:
            return Refuse(
                f"blue {state.blue} is back in the sink, but its revocation had begun; "
                "it may already be revoked",
                needs_human=True,
            )
        if facts.rollback:
            return Refuse("too late to roll back: blue's revocation has begun", needs_human=True)
        return RevokeBlue(state.blue, successor=facts.sink.identifier)
    if phase is Phase.GREEN_ACTIVE:
        return _plan_grace(state, facts, holder, now)
    return _plan_before_promotion(state, facts, holder)


def _plan_resting(facts: Facts, now: float) -> Action:
    if facts.rollback:
        return Wait("nothing to roll back: no rotation is in progress")
    if not facts.due(now):
        return Wait("not due", until=facts.due_at)
    if not facts.sink.healthy:
        return Refuse(f"the sink is not healthy ({facts.sink.problem or 'unknown'})")
    if facts.current_problem is None:
        return VerifyCurrent(blue=facts.sink.identifier)
    if facts.current_problem:
        return Refuse(
            f"the current credential failed its check, so no new one was issued from it "
            f"({facts.current_problem})",
            needs_human=True,
        )
    return Issue(blue=facts.sink.identifier)


def _plan_before_promotion(state: RotationState, facts: Facts, holder: Holder) -> Action:
    """GREEN_ISSUED, GREEN_VALIDATED and PROMOTING."""
    if state.phase is Phase.PROMOTING:
        if holder is Holder.GREEN:
            return ConfirmPromoted(state.green, state.blue, intent=None)
        if facts.rollback:
            return Discard(state.green, ROLLBACK_ASKED, intent=RolledBack(ROLLBACK_ASKED))
        if facts.green_in_hand:
            return Promote(state.green, state.blue, intent=None)
        return Discard(state.green, NOT_PROMOTED, intent=GreenLost(NOT_PROMOTED))
    if holder is Holder.GREEN:
        return Refuse(_green_in_sink(state), needs_human=True)
    if facts.rollback:
        return Discard(state.green, ROLLBACK_ASKED, intent=RolledBack(ROLLBACK_ASKED))
    if not facts.green_in_hand:
        return Discard(state.green, LOST, intent=GreenLost(LOST))
    if state.phase is Phase.GREEN_ISSUED:
        return Validate(state.green)
    return Promote(state.green, state.blue)


def _plan_grace(state: RotationState, facts: Facts, holder: Holder, now: float) -> Action:
    if holder is Holder.BLUE:
        reason = "blue is back in the sink (rolled back)"
        return Discard(state.green, reason, intent=RolledBack(reason))
    if facts.rollback:
        if not state.blue:
            return Refuse("nothing to roll back to: this cycle started without a credential")
        if holder is not Holder.GREEN:
            return Refuse(
                "cannot roll back: the sink no longer holds green (something replaced it)",
                needs_human=True,
            )
        return RestoreBlue(state.blue)
    if state.blue and state.grace_ends_at is not None and now < state.grace_ends_at:
        return Wait("blue's grace period is running", until=state.grace_ends_at)
    return RevokeBlue(state.blue, successor=facts.sink.identifier, intent=GraceEnded())


def _green_in_sink(state: RotationState) -> str:
    return (
        f"the sink holds green {state.green} although it was never promoted "
        f"(phase {state.phase.value}); renewer will not revoke the credential in use"
    )
