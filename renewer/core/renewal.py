"""Was a renewal a full one, or did Vault cap it?

Pure. ``renew-self`` answers 200 even when it cannot extend the token as
asked: near ``explicit_max_ttl`` (or the mount's max TTL for non-periodic
tokens) the granted ``lease_duration`` is shorter and a warning says
``TTL of "X" exceeded the effective max_ttl of "Y"; TTL value is capped``
(or ``period of ...``). Renewing forever a token that is about to hit its
ceiling is the classic silent death (vault#6659), so a capped renewal is a
warning with the remaining lifetime, not an OK.
"""

from __future__ import annotations

from dataclasses import dataclass

from renewer.core.outcome import Outcome

_CAP_MARKERS = ("exceeded the effective max_ttl", "capped")


@dataclass(frozen=True, slots=True)
class RenewalVerdict:
    outcome: Outcome
    granted: int  # seconds the token now lives
    capped: bool
    reason: str = ""


def check_renewal(*, expected: int, granted: int, warnings: tuple[str, ...]) -> RenewalVerdict:
    """Judge a renewal that asked for *expected* seconds and was granted *granted*.

    *expected* is the period for a periodic token, or the TTL it was created
    with otherwise. A grant shorter than expected, or a capping warning,
    means the token is approaching a hard ceiling that renewals cannot lift.
    """
    capping = [warning for warning in warnings if any(m in warning for m in _CAP_MARKERS)]
    if capping or (expected > 0 and granted < expected):
        reason = capping[0] if capping else f"granted {granted}s of the {expected}s asked for"
        return RenewalVerdict(Outcome.WARNING, granted, capped=True, reason=reason)
    return RenewalVerdict(Outcome.OK, granted, capped=False)
