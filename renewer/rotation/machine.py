"""The rotation state machine: blue/green, resumable across oneshot runs.

Pure: stdlib only, no clock, no files, no Vault. Values in, values out.
What to do next, given what the shell observed, is :mod:`renewer.rotation.plan`;
the events themselves are in :mod:`renewer.rotation.events` (re-exported here).

The rules (everything that affects the state lives in this file):

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

5. **A step is done when its consumers have it.** Withdrawing a value (blue
   after the grace, green when discarded) ends only when everything that
   accepted it was told: a static secret's post-rotation hook must have
   applied the final values. A step whose effect failed stays in its intent
   phase, so the next run repeats the whole effect — never just the part
   that had not failed (the target makes every effect idempotent).

6. **One cycle in flight.** A rotation is either resting (BLUE_ACTIVE) or
   in exactly one cycle; asking for another while one is in flight resumes
   it (``max_parallel: 1``).

7. **Status tells the truth.** ``last_result`` is how the last *finished*
   cycle ended; a failure only needs a person while the rotation rests on it
   (a newer cycle supersedes it). A run that stopped with an error, or was
   refused, leaves ``run_error`` until a later run of the rotation succeeds
   (any transition clears it too); :mod:`renewer.rotation.notes` writes that
   note and turns the record into the one sentence ``status`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from renewer.rotation.events import (
    BlueRevoked,
    Event,
    GraceEnded,
    GreenDiscarded,
    GreenLost,
    HookFailed,
    Issued,
    IssueRefused,
    LeftoversSwept,
    Promoted,
    PromotionStarted,
    RolledBack,
    Started,
    Validated,
    ValidationFailed,
)

__all__ = [
    "IN_FLIGHT",
    "STATE_VERSION",
    "TABLE",
    "BlueRevoked",
    "Event",
    "GraceEnded",
    "GreenDiscarded",
    "GreenLost",
    "HookFailed",
    "IllegalTransition",
    "IssueRefused",
    "Issued",
    "LastResult",
    "LeftoversSwept",
    "Phase",
    "Promoted",
    "PromotionStarted",
    "RolledBack",
    "RotationState",
    "Started",
    "Validated",
    "ValidationFailed",
    "apply",
    "new_state",
]

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
    HOOK_FAILED = "hook_failed"  # green could not be applied to its consumers; withdrawn
    ISSUE_REFUSED = "issue_refused"  # Vault refused to issue green; nothing was created
    ABANDONED = "abandoned"  # a run died mid-cycle; green discarded, cycle restarted
    ROLLED_BACK = "rolled_back"  # blue put back in the sink; green discarded

    @property
    def failed(self) -> bool:
        return self in {
            LastResult.VALIDATION_FAILED,
            LastResult.HOOK_FAILED,
            LastResult.ISSUE_REFUSED,
        }


_P = Phase
TABLE: dict[tuple[Phase, type[Event]], Phase] = {
    (_P.BLUE_ACTIVE, Started): _P.GREEN_ISSUING,
    (_P.GREEN_ISSUING, Issued): _P.GREEN_ISSUED,
    (_P.GREEN_ISSUING, IssueRefused): _P.BLUE_ACTIVE,
    (_P.GREEN_ISSUING, LeftoversSwept): _P.BLUE_ACTIVE,
    (_P.GREEN_ISSUED, Validated): _P.GREEN_VALIDATED,
    (_P.GREEN_ISSUED, ValidationFailed): _P.GREEN_DISCARDING,
    (_P.GREEN_ISSUED, HookFailed): _P.GREEN_DISCARDING,
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
    run_error: str = ""  # why the last run of this rotation stopped or was refused
    run_failed_at: float | None = None

    @property
    def in_flight(self) -> bool:
        return self.phase in IN_FLIGHT

    @property
    def in_cycle(self) -> bool:
        """A cycle has started and not ended (its grace included)."""
        return self.phase is not Phase.BLUE_ACTIVE


def new_state(name: str, target: str, *, now: float) -> RotationState:
    """A rotation seen for the first time: resting on whatever the sink holds."""
    return RotationState(name=name, target=target, since=now, anchor=now)


def apply(state: RotationState, event: Event, *, now: float) -> RotationState:
    """The state after *event* at *now*; :class:`IllegalTransition` if the table forbids it.

    A transition is progress, so it also clears the previous run's error.
    """
    phase = TABLE.get((state.phase, type(event)))
    if phase is None:
        raise IllegalTransition(
            f"{type(event).__name__} cannot happen in phase {state.phase.value}"
        )
    moved = replace(
        state,
        phase=phase,
        since=now if phase is not state.phase else state.since,
        run_error="",
        run_failed_at=None,
    )
    return _record(moved, state, event, now)


def _failed(moved: RotationState, result: LastResult, reason: str, now: float) -> RotationState:
    return replace(moved, last_result=result, last_error=reason, last_failed_at=now)


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
            return replace(_failed(moved, LastResult.ISSUE_REFUSED, reason, now), green="")
        case LeftoversSwept():
            return replace(
                moved,
                green="",
                last_result=LastResult.ABANDONED,
                last_error="a run stopped while issuing; its leftovers were swept",
            )
        case ValidationFailed(reason=reason):
            return _failed(moved, LastResult.VALIDATION_FAILED, reason, now)
        case HookFailed(reason=reason):
            return _failed(moved, LastResult.HOOK_FAILED, reason, now)
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
        case BlueRevoked(successor=successor):
            return replace(
                moved,
                blue=successor,
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
