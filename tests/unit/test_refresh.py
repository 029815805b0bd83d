"""Tests for renewer.core.refresh: when a token is refreshed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.refresh import DEFAULT_FRACTION, JITTER, check_refresh, refresh_due_at

ISSUED = 1_000_000.0
LIFETIME = 3600.0


def decide(now: float, *, draw: float = 0.0, fraction: float = DEFAULT_FRACTION) -> bool:
    return check_refresh(
        now=now,
        has_token=True,
        issued_at=ISSUED,
        expires_at=ISSUED + LIFETIME,
        fraction=fraction,
        draw=draw,
    ).due


class TestCheckRefresh:
    def test_no_token_is_due(self) -> None:
        """Without an access token there is nothing to use: fetch one."""
        decision = check_refresh(now=0, has_token=False, issued_at=None, expires_at=None)

        assert (decision.due, decision.reason) == (True, "no-token")

    def test_no_expiry_is_not_due(self) -> None:
        """A token with no known expiry is used until it is refused."""
        decision = check_refresh(now=9e9, has_token=True, issued_at=0, expires_at=None)

        assert (decision.due, decision.reason) == (False, "no-expiry")

    def test_young_token_is_fresh(self) -> None:
        """Half way through the lifetime nothing is due."""
        decision = check_refresh(
            now=ISSUED + LIFETIME / 2,
            has_token=True,
            issued_at=ISSUED,
            expires_at=ISSUED + LIFETIME,
        )

        assert (decision.due, decision.reason) == (False, "fresh")
        assert decision.due_at == pytest.approx(ISSUED + LIFETIME * 2 / 3)

    def test_two_thirds_used_is_due(self) -> None:
        """At 2/3 of the lifetime (no jitter) the refresh is due."""
        assert decide(ISSUED + LIFETIME * 2 / 3)
        assert not decide(ISSUED + LIFETIME * 2 / 3 - 1)

    def test_jitter_moves_the_window_earlier(self) -> None:
        """A high draw makes a token due before 2/3 of its lifetime."""
        now = ISSUED + LIFETIME * 0.6
        assert not decide(now, draw=0.0)
        assert decide(now, draw=0.99)

    def test_expired_token_is_due(self) -> None:
        """Past the expiry a refresh is due whatever the draw."""
        decision = check_refresh(
            now=ISSUED + LIFETIME, has_token=True, issued_at=ISSUED, expires_at=ISSUED + LIFETIME
        )

        assert (decision.due, decision.reason) == (True, "expired")

    def test_zero_lifetime_is_due(self) -> None:
        """expires_in 0 (or a clock gone backwards past the issue) is expired."""
        decision = check_refresh(
            now=ISSUED - 10, has_token=True, issued_at=ISSUED, expires_at=ISSUED
        )

        assert decision.due

    def test_unknown_issue_time_is_due(self) -> None:
        """Without an issue time the window cannot be placed: refresh once to learn it."""
        decision = check_refresh(now=0, has_token=True, issued_at=None, expires_at=100)

        assert (decision.due, decision.reason) == (True, "unknown-lifetime")

    @pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, 1.5])
    def test_fraction_outside_zero_one_is_refused(self, fraction: float) -> None:
        """A fraction of 0 or 1 would refresh always or only when too late."""
        with pytest.raises(ValueError, match="fraction"):
            refresh_due_at(issued_at=0, expires_at=1, fraction=fraction)

    @pytest.mark.parametrize("draw", [-0.1, 1.0])
    def test_draw_outside_unit_interval_is_refused(self, draw: float) -> None:
        """The draw is uniform in [0, 1)."""
        with pytest.raises(ValueError, match="draw"):
            refresh_due_at(issued_at=0, expires_at=1, draw=draw)


@given(
    issued=st.floats(min_value=0, max_value=2e9),
    lifetime=st.floats(min_value=1, max_value=1e7),
    fraction=st.floats(min_value=0.05, max_value=0.95),
    draw=st.floats(min_value=0, max_value=0.999999),
    position=st.floats(min_value=0, max_value=2),
)
def test_refresh_window_is_bounded(
    issued: float, lifetime: float, fraction: float, draw: float, position: float
) -> None:
    """Never before fraction×(1-JITTER) of the lifetime, always before expiry."""
    expires = issued + lifetime
    now = issued + lifetime * position

    due = check_refresh(
        now=now, has_token=True, issued_at=issued, expires_at=expires, fraction=fraction, draw=draw
    ).due

    if now < issued + lifetime * fraction * (1 - JITTER) * (1 - 1e-9):
        assert not due
    if now >= issued + lifetime * fraction * (1 + 1e-9) or now >= expires:
        assert due
