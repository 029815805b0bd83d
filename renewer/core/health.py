"""Does anything need a person's attention? Decided from the recorded state and the clock.

Pure. ``renewer status`` exits 1 when attention is needed, so a shell banner
or a monitoring check can rely on it. Honest status (prior-art pain #3): an
item is unhealthy when its last outcome needs a human, when its token will
expire soon by the recorded expiry, or when runs have stopped happening
(the timer is off or failing before it records anything).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STALE_RUN_AFTER = 2 * 86400  # the timer runs at least daily; two days without a run is news
EXPIRY_WARNING = 86400  # a token with less than a day left needs a look


@dataclass(frozen=True, slots=True)
class Attention:
    item: str  # "token/devvm", or "" for the whole renewer
    reason: str


def check_attention(
    items: Mapping[str, Mapping[str, Any]],
    last_run: Mapping[str, Any],
    *,
    now: float,
) -> tuple[Attention, ...]:
    """Every reason for a person to look, in a stable order; empty means healthy."""
    reasons: list[Attention] = []
    finished = last_run.get("finished_at")
    if not isinstance(finished, int | float):
        reasons.append(Attention("", "renewer has never completed a run"))
    elif now - finished > STALE_RUN_AFTER:
        hours = int((now - finished) // 3600)
        reasons.append(Attention("", f"the last run finished {hours}h ago; is the timer running?"))
    for key in sorted(items):
        item = items[key]
        if not item.get("healthy", False):
            reasons.append(Attention(key, str(item.get("summary", "last outcome needs attention"))))
            continue
        expires_at = (item.get("details") or {}).get("expires_at")
        if isinstance(expires_at, int | float) and expires_at - now < EXPIRY_WARNING:
            left = max(0, int(expires_at - now))
            reasons.append(Attention(key, f"expires in {left // 3600}h {left % 3600 // 60}m"))
    return tuple(reasons)
