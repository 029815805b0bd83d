"""What the last run of a rotation left for a person, and the sentence ``status`` shows.

Pure: stdlib only, values in, values out. The runner notes a run that
stopped with an error or a refusal (:func:`run_failed`) and clears the note
when a later run succeeds (:func:`run_succeeded`); neither is a transition
of the machine, since the phase must stay where it was for the next run to
repeat the step. :func:`attention` is read by ``renewer rotation status``,
``renewer check`` and the tests alike, so all three say the same.
"""

from __future__ import annotations

from dataclasses import replace

from renewer.rotation.machine import Phase, RotationState

STUCK_AFTER = 86400  # an in-flight phase older than a day means runs are failing to finish it


def run_failed(state: RotationState, reason: str, *, now: float) -> RotationState:
    """A run of this rotation stopped with an error or was refused: remember why (no transition).

    The phase stays where it was (rule 3: the intent is repeated next run);
    only the note for ``status`` changes.
    """
    return replace(state, run_error=reason, run_failed_at=now)


def run_succeeded(state: RotationState) -> RotationState:
    """A run of this rotation ended without error: the previous run's note is history."""
    return replace(state, run_error="", run_failed_at=None)


def attention(state: RotationState, *, now: float, stuck_after: float = STUCK_AFTER) -> str:
    """Why a person should look at this rotation; "" when nothing needs one.

    In this order: the last run stopped (an error or a refusal, until a
    later run succeeds); the rotation rests on a failed cycle (a newer cycle
    in progress supersedes it); a cycle stuck mid-phase for *stuck_after*.
    """
    if state.run_error:
        why = state.run_error.strip() or "no reason was recorded"
        return (
            f"the last run stopped in phase {state.phase.value}: {why} "
            f"(renewer rotate {state.name} --dry-run shows the next step)"
        )
    if state.phase is Phase.BLUE_ACTIVE and state.last_result.failed:
        return f"the last cycle failed: {failure_reason(state)}"
    if state.in_flight and now - state.since > stuck_after:
        return f"stuck in {state.phase.value}; renewer rotate {state.name} resumes it"
    return ""


def failure_reason(state: RotationState) -> str:
    """Why the last cycle failed, in words; a blank recorded error falls back to the result."""
    return state.last_error.strip() or state.last_result.value.replace("_", " ")
