"""The rotation state machine: blue/green, resumable across oneshot runs.

Pure: stdlib only, no clock, no files, no Vault. Values in, values out.

The rules (everything that affects the machine lives in this file):

1. **One record per rotation.** :class:`RotationState` is the whole memory of
   a rotation between runs. It holds *identifiers* (accessors, key ids) and
   times, never a secret value: a crash can lose a value, never leak one.

2. **Transitions are a table.** :data:`TABLE` maps (phase, event type) to
   the next phase; :func:`apply` refuses anything else with
   :class:`IllegalTransition`. The happy path is::

       BLUE_ACTIVE ─Started→ GREEN_ISSUING ─Issued→ GREEN_ISSUED ─Validated→
       GREEN_VALIDATED ─PromotionStarted→ PROMOTING ─Promoted→ GREEN_ACTIVE
       ─GraceEnded→ BLUE_REVOKING ─BlueRevoked→ BLUE_ACTIVE (green is the new blue)

   and every way off it goes through GREEN_DISCARDING ─GreenDiscarded→ BLUE_ACTIVE.

3. **Intent before effect.** Phases ending in ``-ING`` are *intents*: the shell
   persists them before the side effect they name (issue, promote, revoke
   blue, discard green). A process that dies mid-effect leaves the intent on
   disk, and the next run finishes or undoes it. Every effect is idempotent
   except issuing, which is why GREEN_ISSUING is always resumed by sweeping
   leftovers rather than by issuing again.

4. **A value lost is a value discarded.** Green's value lives only in the
   process that issued it. A run that finds green issued or validated but not
   promoted, and does not hold the value, discards green by its identifier
   and starts the cycle again (:class:`GreenLost`).

5. **The sink is the truth about what is active.** Each step the shell looks
   at the sink (the token file, the secret-id file, the store) and reports
   its identifier in :class:`SinkView`. The plan never revokes blue while the
   sink holds blue, and never discards green while the sink holds green:
   those two refusals are what "never revoke the active credential" means.

6. **One cycle in flight.** A rotation is either resting (BLUE_ACTIVE) or
   in exactly one cycle; asking for another while one is in flight resumes
   it (``max_parallel: 1``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

STATE_VERSION = 1


class Phase(Enum):
    """Where a rotation is. Values are what the state file stores."""

    BLUE_ACTIVE = "blue_active"  # resting: one credential, in the sink
    GREEN_ISSUING = "green_issuing"  # intent: about to issue green (its id not known yet)
    GREEN_ISSUED = "green_issued"  # green exists, not yet validated
    GREEN_VALIDATED = "green_validated"  # green passed validation, not yet in the sink
    PROMOTING = "promoting"  # intent: putting green into the sink
    GREEN_ACTIVE = "green_active"  # green in the sink; blue deprecated, alive for the grace
    BLUE_REVOKING = "blue_revoking"  # intent: the grace is over, revoking blue
    GREEN_DISCARDING = "green_discarding"  # intent: revoking green (failed, lost, rolled back)


IN_FLIGHT = frozenset(Phase) - {Phase.BLUE_ACTIVE, Phase.GREEN_ACTIVE}
"""Phases a run must never stay in: they are resumed by the next run."""


class LastResult(Enum):
    """How the last cycle ended (``status`` shows it)."""

    NONE = "none"
    COMPLETED = "completed"  # green promoted, blue revoked after the grace
    VALIDATION_FAILED = "validation_failed"  # green discarded, blue kept; a human looks
    ISSUE_REFUSED = "issue_refused"  # Vault refused to issue green; nothing was created
    ABANDONED = "abandoned"  # a run died mid-cycle; green discarded, cycle restarted
    ROLLED_BACK = "rolled_back"  # blue put back in the sink; green discarded

    @property
    def failed(self) -> bool:
        return self in {LastResult.VALIDATION_FAILED, LastResult.ISSUE_REFUSED}


# --- events: what happened (nouns, as h11's) --------------------------------


@dataclass(frozen=True, slots=True)
class Started:
    """A cycle begins from the credential now in the sink."""

    blue: str


@dataclass(frozen=True, slots=True)
class Issued:
    """Green exists; *green* is its identifier."""

    green: str


@dataclass(frozen=True, slots=True)
class IssueRefused:
    """The issuer said no; nothing was created."""

    reason: str


@dataclass(frozen=True, slots=True)
class LeftoversSwept:
    """An interrupted issue was cleaned up: no green of this cycle is left."""


@dataclass(frozen=True, slots=True)
class Validated:
    """Green was used for real and worked."""


@dataclass(frozen=True, slots=True)
class ValidationFailed:
    """Green did not work; it must be discarded and a human told."""

    reason: str


@dataclass(frozen=True, slots=True)
class GreenLost:
    """Green's value is gone (the run that held it stopped); discard it by identifier."""

    reason: str


@dataclass(frozen=True, slots=True)
class PromotionStarted:
    """About to put green into the sink."""


@dataclass(frozen=True, slots=True)
class Promoted:
    """The sink holds green; blue lives on for *grace* seconds."""

    grace: int


@dataclass(frozen=True, slots=True)
class RolledBack:
    """Blue is (back) in the sink, or a person asked to abandon green."""

    reason: str


@dataclass(frozen=True, slots=True)
class GraceEnded:
    """Blue's grace period is over; revoke it."""


@dataclass(frozen=True, slots=True)
class BlueRevoked:
    """Blue is gone (revoked now, or already gone); green is the next cycle's blue."""


@dataclass(frozen=True, slots=True)
class GreenDiscarded:
    """Green is gone (revoked now, or already gone)."""


Event = (
    Started
    | Issued
    | IssueRefused
    | LeftoversSwept
    | Validated
    | ValidationFailed
    | GreenLost
    | PromotionStarted
    | Promoted
    | RolledBack
    | GraceEnded
    | BlueRevoked
    | GreenDiscarded
)

_P = Phase
TABLE: dict[tuple[Phase, type[Event]], Phase] = {
    (_P.BLUE_ACTIVE, Started): _P.GREEN_ISSUING,
    (_P.GREEN_ISSUING, Issued): _P.GREEN_ISSUED,
    (_P.GREEN_ISSUING, IssueRefused): _P.BLUE_ACTIVE,
    (_P.GREEN_ISSUING, LeftoversSwept): _P.BLUE_ACTIVE,
    (_P.GREEN_ISSUED, Validated): _P.GREEN_VALIDATED,
    (_P.GREEN_ISSUED, ValidationFailed): _P.GREEN_DISCARDING,
    (_P.GREEN_ISSUED, GreenLost): _P.GREEN_DISCARDING,
    (_P.GREEN_ISSUED, RolledBack): _P.GREEN_DISCARDING,
    (_P.GREEN_VALIDATED, PromotionStarted): _P.PROMOTING,
    (_P.GREEN_VALIDATED, GreenLost): _P.GREEN_DISCARDING,
    (_P.GREEN_VALIDATED, RolledBack): _P.GREEN_DISCARDING,
    (_P.PROMOTING, Promoted): _P.GREEN_ACTIVE,
    (_P.PROMOTING, GreenLost): _P.GREEN_DISCARDING,
    (_P.PROMOTING, RolledBack): _P.GREEN_DISCARDING,
    (_P.GREEN_ACTIVE, GraceEnded): _P.BLUE_REVOKING,
    (_P.GREEN_ACTIVE, RolledBack): _P.GREEN_DISCARDING,
    (_P.BLUE_REVOKING, BlueRevoked): _P.BLUE_ACTIVE,
    (_P.GREEN_DISCARDING, GreenDiscarded): _P.BLUE_ACTIVE,
}
"""Every allowed transition. Anything else is a bug in the caller (or a damaged file)."""


class IllegalTransition(ValueError):
    """*event* cannot happen in *phase* (h11's LocalProtocolError)."""


@dataclass(frozen=True, slots=True)
class RotationState:
    """All a rotation remembers between runs. Identifiers and times only; no secret."""

    name: str
    target: str  # the target type, e.g. "vault-token", "approle"
    phase: Phase = Phase.BLUE_ACTIVE
    since: float = 0.0  # when the phase was entered
    anchor: float = 0.0  # first seen: schedules count from here until a cycle completes
    blue: str = ""  # identifier of the credential the cycle started from ("" = none)
    green: str = ""  # identifier of the new credential, once known
    grace_ends_at: float | None = None
    due_base: float | None = None  # schedule fires after this count; None → anchor
    last_started_at: float | None = None
    last_promoted_at: float | None = None
    last_completed_at: float | None = None
    last_failed_at: float | None = None
    last_result: LastResult = LastResult.NONE
    last_error: str = ""
    cycles: int = 0  # completed cycles

    @property
    def in_flight(self) -> bool:
        return self.phase in IN_FLIGHT


def new_state(name: str, target: str, *, now: float) -> RotationState:
    """A rotation seen for the first time: resting on whatever the sink holds."""
    return RotationState(name=name, target=target, since=now, anchor=now)


def apply(state: RotationState, event: Event, *, now: float) -> RotationState:
    """The state after *event* at *now*; :class:`IllegalTransition` if the table forbids it."""
    phase = TABLE.get((state.phase, type(event)))
    if phase is None:
        raise IllegalTransition(
            f"{type(event).__name__} cannot happen in phase {state.phase.value}"
        )
    moved = replace(state, phase=phase, since=now if phase is not state.phase else state.since)
    return _record(moved, state, event, now)


def _record(moved: RotationState, old: RotationState, event: Event, now: float) -> RotationState:
    """The bookkeeping each event carries besides the phase."""
    match event:
        case Started(blue=blue):
            return replace(
                moved, blue=blue, green="", grace_ends_at=None, last_started_at=now, last_error=""
            )
        case Issued(green=green):
            return replace(moved, green=green)
        case IssueRefused(reason=reason):
            return replace(
                moved,
                green="",
                last_result=LastResult.ISSUE_REFUSED,
                last_error=reason,
                last_failed_at=now,
            )
        case LeftoversSwept():
            return replace(
                moved,
                green="",
                last_result=LastResult.ABANDONED,
                last_error="a run stopped while issuing; its leftovers were swept",
            )
        case ValidationFailed(reason=reason):
            return replace(
                moved,
                last_result=LastResult.VALIDATION_FAILED,
                last_error=reason,
                last_failed_at=now,
            )
        case GreenLost(reason=reason):
            return replace(moved, last_result=LastResult.ABANDONED, last_error=reason)
        case RolledBack(reason=reason):
            # A rollback consumes the schedule's current fire: the next cycle
            # waits for the next regular time (or `rotate --now`).
            return replace(
                moved, last_result=LastResult.ROLLED_BACK, last_error=reason, due_base=now
            )
        case Promoted(grace=grace):
            return replace(moved, grace_ends_at=now + grace, last_promoted_at=now)
        case BlueRevoked():
            return replace(
                moved,
                blue=old.green,
                green="",
                grace_ends_at=None,
                due_base=old.last_started_at,
                last_completed_at=now,
                last_result=LastResult.COMPLETED,
                last_error="",
                cycles=old.cycles + 1,
            )
        case GreenDiscarded():
            return replace(moved, green="", grace_ends_at=None)
        case _:
            return moved


# --- what the shell observes, and what it should do next --------------------


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
class Issue:
    """Persist ``Started(blue)``, then issue green with blue's authority."""

    blue: str

    @property
    def intent(self) -> Event:
        return Started(self.blue)


@dataclass(frozen=True, slots=True)
class SweepLeftovers:
    """A run died while issuing: remove any green of ours that is not *keep*."""

    keep: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Validate:
    """Use green for real."""

    green: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Promote:
    """Persist ``PromotionStarted``, then put green into the sink (blue kept alive)."""

    green: str
    blue: str
    intent: Event | None = PromotionStarted()


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
    """Revoke blue by its identifier (nothing to do when there was no blue)."""

    blue: str
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
        return RevokeBlue(state.blue)
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
    return RevokeBlue(state.blue, intent=GraceEnded())


def _green_in_sink(state: RotationState) -> str:
    return (
        f"the sink holds green {state.green} although it was never promoted "
        f"(phase {state.phase.value}); renewer will not revoke the credential in use"
    )
