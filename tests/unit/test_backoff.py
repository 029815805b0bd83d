"""Tests for renewer.core.backoff: full-jitter delays within a deadline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.backoff import fits_deadline, full_jitter


class TestFullJitter:
    def test_delay_grows_then_caps(self) -> None:
        """The ceiling doubles per attempt until the cap."""
        ceilings = [full_jitter(n, base=0.5, cap=4.0, draw=0.999999) for n in range(6)]

        assert ceilings == pytest.approx([0.5, 1.0, 2.0, 4.0, 4.0, 4.0], rel=1e-5)

    def test_zero_draw_waits_nothing(self) -> None:
        """Full jitter may retry at once."""
        assert full_jitter(3, base=1, cap=10, draw=0.0) == 0.0

    def test_negative_attempt_is_refused(self) -> None:
        """Attempts count from 0."""
        with pytest.raises(ValueError, match="attempt"):
            full_jitter(-1, base=1, cap=1, draw=0)


class TestFitsDeadline:
    def test_delay_within_deadline_fits(self) -> None:
        """A wait that ends before the deadline is allowed."""
        assert fits_deadline(started=0, now=5, delay=4, deadline=10)

    def test_delay_past_deadline_does_not_fit(self) -> None:
        """A wait that ends at or after the deadline is not."""
        assert not fits_deadline(started=0, now=5, delay=5, deadline=10)


@given(
    attempt=st.integers(min_value=0, max_value=10_000),
    base=st.floats(min_value=0.001, max_value=10),
    cap=st.floats(min_value=0.001, max_value=100),
    draw=st.floats(min_value=0, max_value=0.999999),
)
def test_delay_is_never_negative_nor_above_cap(
    attempt: int, base: float, cap: float, draw: float
) -> None:
    """However many attempts, the delay stays in [0, cap]."""
    delay = full_jitter(attempt, base=base, cap=cap, draw=draw)

    assert 0 <= delay <= cap
