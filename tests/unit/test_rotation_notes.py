"""Tests for renewer.rotation.notes: what the last run left, and what status is told."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from renewer.rotation import machine as m
from renewer.rotation import notes as n

P = m.Phase
NOW = 1_000_000.0


def state(phase: m.Phase = P.BLUE_ACTIVE, **changes: object) -> m.RotationState:
    base = m.RotationState(
        name="r", target="fake", phase=phase, since=NOW - 10, anchor=NOW - 1000, blue="b", green="g"
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class TestRunNotes:
    def test_a_failed_run_is_noted_without_moving_the_phase(self) -> None:
        """The intent stays on disk to be repeated; only the note for status is added."""
        noted = n.run_failed(state(P.BLUE_REVOKING), "hook exited 3", now=NOW)
        assert (noted.phase, noted.run_error, noted.run_failed_at) == (
            P.BLUE_REVOKING,
            "hook exited 3",
            NOW,
        )

    def test_any_transition_or_a_later_good_run_clears_the_note(self) -> None:
        """A note describes the last run, not history."""
        noted = n.run_failed(state(P.BLUE_REVOKING), "hook exited 3", now=NOW)
        moved = m.apply(noted, m.BlueRevoked("g"), now=NOW + 1)
        assert (moved.run_error, moved.run_failed_at) == ("", None)
        assert n.run_succeeded(noted) == state(P.BLUE_REVOKING)


class TestAttention:
    def test_a_rotation_at_rest_after_a_good_cycle_needs_nobody(self) -> None:
        """The healthy case is silent."""
        rest = state(last_result=m.LastResult.COMPLETED)
        assert n.attention(rest, now=NOW) == ""

    def test_the_last_run_stopping_is_told_with_the_phase_and_the_reason(self) -> None:
        """`ok blue_revoking last: completed` was a lie while the final hook kept failing."""
        noted = n.run_failed(
            state(P.BLUE_REVOKING, last_result=m.LastResult.COMPLETED), "hook exited 3", now=NOW
        )
        text = n.attention(noted, now=NOW)
        assert "stopped in phase blue_revoking: hook exited 3" in text
        assert "renewer rotate r --dry-run" in text

    def test_a_failed_cycle_at_rest_is_told_with_its_reason(self) -> None:
        """Resting on a failure needs a person."""
        rest = state(last_result=m.LastResult.VALIDATION_FAILED, last_error="login refused")
        assert n.attention(rest, now=NOW) == "the last cycle failed: login refused"

    @pytest.mark.parametrize("phase", [P.GREEN_ACTIVE, P.GREEN_ISSUED, P.BLUE_REVOKING])
    def test_a_newer_cycle_supersedes_an_old_failure(self, phase: m.Phase) -> None:
        """A healthy grace after a failed cycle said `FAIL ... last cycle failed: ` (no reason)."""
        after = m.apply(
            state(last_result=m.LastResult.VALIDATION_FAILED, last_error="x"),
            m.Started("b"),
            now=NOW,
        )
        assert after.last_error == ""
        assert n.attention(replace(after, phase=phase), now=NOW) == ""

    def test_a_cycle_stuck_mid_phase_for_a_day_is_told(self) -> None:
        """Runs are failing to finish it; the grace itself is never stuck."""
        stuck = state(P.GREEN_ISSUED, since=NOW - n.STUCK_AFTER - 1)
        assert "stuck in green_issued" in n.attention(stuck, now=NOW)
        assert n.attention(replace(stuck, phase=P.GREEN_ACTIVE), now=NOW) == ""


results = st.sampled_from(list(m.LastResult))
phases = st.sampled_from(list(m.Phase))


@given(phase=phases, result=results, error=st.text(max_size=5), run_error=st.text(max_size=5))
@example(phase=P.BLUE_ACTIVE, result=m.LastResult.VALIDATION_FAILED, error=" ", run_error="")
@example(phase=P.BLUE_ACTIVE, result=m.LastResult.COMPLETED, error="", run_error=" \n")
def test_attention_never_is_silent_about_a_stopped_run_or_a_failure_at_rest(
    phase: m.Phase, result: m.LastResult, error: str, run_error: str
) -> None:
    """Whatever the record: a noted run error or a failed cycle at rest always needs a person,
    and the sentence is never empty of its reason (a blank recorded error included)."""
    rotation = state(phase, last_result=result, last_error=error, run_error=run_error)
    text = n.attention(rotation, now=NOW)
    if run_error:
        assert run_error.strip() in text
        stopped = text.partition(f"phase {phase.value}:")[2]
        assert stopped.partition("(renewer rotate")[0].strip()
    elif phase is P.BLUE_ACTIVE and result.failed:
        assert text.startswith("the last cycle failed: ")
        assert text.rstrip() != "the last cycle failed:"
    else:
        assert text == ""
