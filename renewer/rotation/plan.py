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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from renewer.rotation.machine import (
    Event,
    GraceEnded,
    GreenLost,
    Phase,
    PromotionStarted,
    RolledBack,
    RotationState,
    Started,
)


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


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to do now."""

    reason: str
    until: float | None = None


@dataclass(frozen=True, slots=True)
class Refuse:
    """Something is in the way; do nothing and say why."""

    reason: str
    needs_human: bool = False


@dataclass(frozen=True, slots=True)
class VerifyCurrent:
    """Use blue for real before issuing anything from it (read-only; nothing persisted)."""

    blue: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Issue:
    """Persist ``Started(blue)``, then issue green."""

    blue: str

    @property
    def intent(self) -> Event:
        return Started(self.blue)


@dataclass(frozen=True, slots=True)
class SweepLeftovers:
    """A run died while issuing: remove what this rotation provably issued and is not *keep*."""

    keep: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Validate:
    """Apply green to its consumers (where the target has any) and use it for real."""

    green: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Promote:
    """Persist ``PromotionStarted``, then put green into the sink (blue kept alive)."""

    green: str
    blue: str
    intent: Event | None = PromotionStarted()  # noqa: RUF009 - frozen and field-less


@dataclass(frozen=True, slots=True)
class ConfirmPromoted:
    """The sink already holds green (the run stopped right after writing it)."""

    green: str
    blue: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class RestoreBlue:
    """Rollback: put blue's kept value back into the sink; green is discarded next."""

    blue: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class RevokeBlue:
    """Revoke blue by its identifier (nothing to do when there was no blue).

    *successor* is what the sink holds (green, or what replaced it): the
    next cycle's blue.
    """

    blue: str
    successor: str = ""
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Discard:
    """Revoke green by its identifier."""

    green: str
    reason: str
    intent: Event | None = None


Action = (
    Wait
    | Refuse
    | VerifyCurrent
    | Issue
    | SweepLeftovers
    | Validate
    | Promote
    | ConfirmPromoted
    | RestoreBlue
    | RevokeBlue
    | Discard
)

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


def describe(action: Action, noun: str) -> str:
    """The plan in words, for ``--dry-run``: a clause after "would" (or "nothing to do")."""
    match action:
        case Wait(reason=reason):
            return f"nothing to do ({reason})"
        case Refuse(reason=reason):
            return f"refuse to proceed: {reason}"
        case VerifyCurrent(blue=blue):
            current = f"the current {noun} {blue}" if blue else f"that there is a current {noun}"
            return f"check {current} still works, then issue a new one, validate and promote it"
        case Issue():
            return f"issue a new {noun}, validate it, then promote it"
        case SweepLeftovers():
            return f"remove any {noun} a stopped run issued but never recorded, then start again"
        case Validate(green=green):
            return f"validate the new {noun} {green}"
        case Promote(green=green):
            return f"put the new {noun} {green} into the sink"
        case ConfirmPromoted(green=green):
            return f"record that the new {noun} {green} is in the sink"
        case RestoreBlue(blue=blue):
            return f"put the old {noun} {blue} back into the sink, then discard the new one"
        case RevokeBlue(blue=blue):
            return f"withdraw the old {noun} {blue}" if blue else "finish the cycle"
        case Discard(green=green, reason=reason):
            return f"withdraw the new {noun} {green} ({reason})"
    return type(action).__name__  # pragma: no cover - every action is matched above
