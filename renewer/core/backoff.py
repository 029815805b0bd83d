"""How long to wait before retrying a temporary failure, or whether to give up.

Pure: the random fraction and the remaining budget are arguments. Full
jitter (sleep = random(0, min(cap, base·2^attempt))) spreads a fleet's
retries; a server's ``Retry-After`` is honoured as a floor; nothing waits past
the run's deadline (a retry that cannot finish in time is not started).
"""

from __future__ import annotations

MIN_ATTEMPT_TIME = 0.5  # seconds a retried request needs to have a chance


def retry_delay(
    attempt: int,
    *,
    retry_after: float | None,
    base: float,
    cap: float,
    fraction: float,
    remaining: float,
) -> float | None:
    """Seconds to sleep before attempt ``attempt + 1``, or None to give up.

    *attempt* counts failures so far (1 after the first). *fraction* is a
    uniform random number in [0, 1). *remaining* is the budget left.
    """
    ceiling = min(cap, base * (2.0 ** (attempt - 1)))
    delay = fraction * ceiling
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, cap * 4))
    if delay + MIN_ATTEMPT_TIME > remaining:
        return None
    return delay
