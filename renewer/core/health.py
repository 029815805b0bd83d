"""Does anything need a person's attention? Decided from the record, the clock and the schedule.

Pure. ``renewer status`` exits 1 when attention is needed, so a shell banner
or a monitoring check can rely on it — which is why it must not cry wolf
(issue 16, item 1): health is judged against each item's own schedule, not a
fixed window. Rules, each pinned by a test:

* runs have stopped (the last finished more than :data:`STALE_RUN_AFTER`
  ago, or twice the interval if that is longer) or never happened → attention;
* an item whose last outcome needs a person (refreshing failed, drift, a
  certificate nobody can renew...) → attention, with its summary;
* an item that expires is judged against the **next run**: the timer's next
  elapse when known, else the last run plus the configured interval (never
  earlier than now). It needs attention only when it will expire before
  that run (plus :data:`RUN_SLACK`, the timer's randomized delay and the
  run itself) can renew it. An item recorded with
  ``refreshes_after_expiry`` (an OAuth2 access token with a refresh token,
  a JWT or STS session minted from a stored key, a certificate reissued
  from PKI) is renewed by the next run even after its expiry: its expiry
  alone is never a reason. A Vault token is renewed with itself, so it
  must outlive the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

STALE_RUN_AFTER = 2 * 86400  # the timer runs at least daily; two days without a run is news
DEFAULT_INTERVAL = 86400  # the shipped timer is daily
# The shipped timer starts a run up to 30 minutes after its elapse (RandomizedDelaySec),
# and a run may take its deadline: an item must outlive the next elapse by this much.
RUN_SLACK = 3600


@dataclass(frozen=True, slots=True)
class Attention:
    item: str  # "token/devvm", or "" for the whole renewer
    reason: str


def next_run_at(
    *, timer_next: float | None, last_finished: float | None, interval: float, now: float
) -> float:
    """When the next scheduled run happens: the timer's elapse, else last run + *interval*."""
    if timer_next is not None:
        return max(timer_next, now)
    if last_finished is not None:
        return max(last_finished + interval, now)
    return now + interval


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _left(seconds: float) -> str:
    left = max(0, int(seconds))
    if left >= 2 * 86400:
        return f"{left // 86400}d {left % 86400 // 3600}h"
    return f"{left // 3600}h {left % 3600 // 60}m"


def expiry_reason(details: Mapping[str, Any], *, now: float, next_run: float) -> str | None:
    """Why an item's expiry needs a person before the next run, or None."""
    expires_at = details.get("expires_at")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        return None
    if details.get("refreshes_after_expiry") is True:
        return None
    if expires_at <= now:
        return f"expired at {_clock(expires_at)}"
    if expires_at < next_run + RUN_SLACK:
        return (
            f"expires in {_left(expires_at - now)}, before the next run "
            f"(~{_clock(next_run)}) can renew it"
        )
    return None


def check_attention(
    items: Mapping[str, Mapping[str, Any]],
    last_run: Mapping[str, Any],
    *,
    now: float,
    next_run: float,
    interval: float = DEFAULT_INTERVAL,
) -> tuple[Attention, ...]:
    """Every reason for a person to look, in a stable order; empty means healthy."""
    reasons: list[Attention] = []
    finished = last_run.get("finished_at")
    stale_after = max(STALE_RUN_AFTER, 2 * interval)
    if isinstance(finished, bool) or not isinstance(finished, int | float):
        reasons.append(Attention("", "renewer has never completed a run"))
    elif now - finished > stale_after:
        hours = int((now - finished) // 3600)
        reasons.append(Attention("", f"the last run finished {hours}h ago; is the timer running?"))
    for key in sorted(items):
        item = items[key]
        if not item.get("healthy", False):
            reasons.append(Attention(key, str(item.get("summary", "last outcome needs attention"))))
            continue
        reason = expiry_reason(item.get("details") or {}, now=now, next_run=next_run)
        if reason:
            reasons.append(Attention(key, reason))
    return tuple(reasons)
