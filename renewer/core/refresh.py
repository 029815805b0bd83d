"""When a credential with an expiry should be refreshed.

Pure: the clock reading and the random draw are arguments, so the decision
is a function of its inputs and tests never patch time.
Design: product.md §3 ("refresh ahead of expiry"), perf-reliability notes
(Vault's lifetime watcher renews at about 2/3 of the lease, with randomness
"to help prevent thundering herd scenarios").

Rules, each pinned by a test:

* no access token → due (``no-token``);
* no known expiry → not due (``no-expiry``): nothing says the token ends, so
  a refresh would only spend the refresh token; a 401 is what reveals it;
* a lifetime of zero or less, or ``now`` at or past the expiry → due
  (``expired``);
* an expiry without an issue time → due (``unknown-lifetime``): the window
  cannot be placed, and one refresh records an issue time for next time;
* otherwise due from ``issued_at + lifetime × fraction × (1 - JITTER × draw)``
  (``window``): never before ``fraction × (1 - JITTER)`` of the lifetime has
  passed, never later than ``fraction`` of it, which is before the expiry for
  any *fraction* below 1. The draw is in [0, 1); each run draws anew, so a
  fleet of machines spreads its refreshes instead of meeting at one instant.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_FRACTION = 2 / 3
# Up to 15 % of the refresh point earlier: with the default fraction a token
# is refreshed between 57 % and 67 % of its lifetime.
JITTER = 0.15


@dataclass(frozen=True, slots=True)
class RefreshDecision:
    """Whether to refresh now, why, and from when (for ``status`` and logs)."""

    due: bool
    reason: str  # "no-token", "no-expiry", "expired", "unknown-lifetime", "window", "fresh"
    due_at: float | None = None


def refresh_due_at(
    *, issued_at: float, expires_at: float, fraction: float = DEFAULT_FRACTION, draw: float = 0.0
) -> float:
    """The instant from which a token issued at *issued_at* should be refreshed."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    if not 0.0 <= draw < 1.0:
        raise ValueError(f"draw must be in [0, 1), got {draw}")
    lifetime = expires_at - issued_at
    return issued_at + lifetime * fraction * (1.0 - JITTER * draw)


def check_refresh(
    *,
    now: float,
    has_token: bool,
    issued_at: float | None,
    expires_at: float | None,
    fraction: float = DEFAULT_FRACTION,
    draw: float = 0.0,
) -> RefreshDecision:
    """Decide by the rules in the module docstring."""
    if not has_token:
        return RefreshDecision(due=True, reason="no-token")
    if expires_at is None:
        return RefreshDecision(due=False, reason="no-expiry")
    if now >= expires_at or (issued_at is not None and expires_at <= issued_at):
        return RefreshDecision(due=True, reason="expired", due_at=expires_at)
    if issued_at is None:
        return RefreshDecision(due=True, reason="unknown-lifetime", due_at=None)
    due_at = refresh_due_at(
        issued_at=issued_at, expires_at=expires_at, fraction=fraction, draw=draw
    )
    if now >= due_at:
        return RefreshDecision(due=True, reason="window", due_at=due_at)
    return RefreshDecision(due=False, reason="fresh", due_at=due_at)
