"""How long to wait before retrying a temporary failure.

Pure: the attempt number and the random draw are arguments.
Design: product.md §2 (exit 75 after bounded retries with backoff and
jitter), perf-reliability notes ("full jitter, sleep = random(0, min(cap,
base·2^n))": retries from many machines then spread instead of arriving
together).
"""

from __future__ import annotations


def full_jitter(attempt: int, *, base: float, cap: float, draw: float) -> float:
    """Seconds to wait before retry number *attempt* (0 for the first retry).

    *draw* is uniform in [0, 1). The result is in ``[0, min(cap, base × 2^attempt))``.
    """
    if attempt < 0:
        raise ValueError(f"attempt must not be negative, got {attempt}")
    ceiling = min(cap, base * 2.0 ** min(attempt, 62))
    return ceiling * draw


def fits_deadline(*, started: float, now: float, delay: float, deadline: float) -> bool:
    """True when waiting *delay* seconds from *now* still ends before *started* + *deadline*."""
    return now + delay - started < deadline
