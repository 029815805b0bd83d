"""Was a renewal (or a mint) a full one, or did Vault cap it, and by what?

Pure. ``renew-self`` and ``create-orphan`` answer 200 even when they cannot
grant what was asked: the ``lease_duration`` is shorter and a warning says
why. Two ceilings look alike but mean opposite things for a periodic token:

* the **max TTL of the token mount** (``vault auth tune -max-lease-ttl`` on
  ``token/``, else the server's ``max_lease_ttl``) caps each grant:
  ``period of "768h" exceeded the effective max_ttl of "24h"; period value is
  capped accordingly``. Renewals *do* extend the token, 24h at a time, so it
  lives as long as no renewal is missed; a fresh mint is capped the same.
  The cure is to lift the mount's max TTL;
* the token's **explicit max TTL** (``mint.explicit_max_ttl``) ends it for
  good at creation + max: ``TTL of "768h" exceeded the effective max_ttl of
  "45m"``. Renewals cannot go past it; only a fresh mint (new clock) helps.

Renewing forever a token that is about to hit its ceiling is the classic
silent death (vault#6659), so a capped grant is a warning that says which
ceiling it is and what lifts it, never an OK.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from renewer.core.duration import format_duration, format_ttl
from renewer.core.outcome import Outcome

_CAP_MARKERS = ("exceeded the effective max_ttl", "capped")
_PERIOD_CAPPED = re.compile(r'period of "[^"]*" exceeded the effective max_ttl of "([^"]*)"')
_GO_PART = re.compile(r"(\d+)(?:\.\d+)?(h|m(?!s)|s)")
_TTL_CAPPED = re.compile(r'TTL of "[^"]*" exceeded the effective max_ttl of "([^"]*)"')


class CapCause(Enum):
    MOUNT_MAX = "the token mount's max TTL"
    EXPLICIT_MAX = "the token's explicit max TTL"
    UNKNOWN = "a limit Vault did not name"


@dataclass(frozen=True, slots=True)
class RenewalVerdict:
    outcome: Outcome
    granted: int  # seconds the token now lives
    capped: bool
    reason: str = ""
    cause: CapCause | None = None
    limit: int = 0  # the ceiling's length in seconds, when Vault named it


def _seconds(text: str) -> int:
    """A Go duration from a Vault warning (``24h``, ``24h0m0s``, ``44m59.5s``), whole seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(amount) * units[unit] for amount, unit in _GO_PART.findall(text))


def check_renewal(
    *, expected: int, granted: int, warnings: tuple[str, ...], explicit_max_ttl: int = 0
) -> RenewalVerdict:
    """Judge a grant that asked for *expected* seconds and got *granted*.

    *expected* is the period for a periodic token, or the TTL it was created
    with otherwise; *explicit_max_ttl* is the token's own (from its lookup),
    which tells a period capped by it apart from one capped by the mount.
    """
    capping = [warning for warning in warnings if any(m in warning for m in _CAP_MARKERS)]
    if not capping and not (expected > 0 and granted < expected):
        return RenewalVerdict(Outcome.OK, granted, capped=False)
    reason = capping[0] if capping else f"granted {granted}s of the {expected}s asked for"
    cause, limit = CapCause.UNKNOWN, 0
    for warning in capping:
        if match := _TTL_CAPPED.search(warning):
            cause, limit = CapCause.EXPLICIT_MAX, _seconds(match.group(1))
            break
        if match := _PERIOD_CAPPED.search(warning):
            limit = _seconds(match.group(1))
            explicit = explicit_max_ttl and limit == explicit_max_ttl
            cause = CapCause.EXPLICIT_MAX if explicit else CapCause.MOUNT_MAX
    return RenewalVerdict(
        Outcome.WARNING, granted, capped=True, reason=reason, cause=cause, limit=limit
    )


def cap_advice(
    verdict: RenewalVerdict, *, sink: str, period: int, cli: str, explicit_from_config: bool
) -> str:
    """Where the cap of *verdict* comes from and what lifts it, in one clause.

    *cli* is ``vault`` or ``bao`` (the CLI the person uses); *period* the
    period we mint; *explicit_from_config*: ``mint.explicit_max_ttl`` is set.
    """
    left = format_ttl(verdict.granted)
    if verdict.cause is CapCause.MOUNT_MAX:
        limit = format_duration(verdict.limit or verdict.granted)
        return (
            f"capped at {limit} by the token mount's max TTL (not the {format_duration(period)} "
            f"period): each renewal extends it by {limit} again, so a missed run lets it "
            f"expire, and a fresh mint is capped the same; lift the cap with "
            f"`{cli} auth tune -max-lease-ttl={format_duration(period)} token/` "
            "(needs sudo on sys/auth/token/tune), or run renewer more often than every "
            f"{limit}"
        )
    if verdict.cause is CapCause.EXPLICIT_MAX:
        origin = (
            "set by mint.explicit_max_ttl in the config"
            if explicit_from_config
            else "set when the token was created"
        )
        return (
            f"only {left} left: the token's explicit max TTL ({origin}) ends it then and "
            f"renewals cannot extend past it; mint a fresh one before then: renewer mint {sink}"
        )
    return (
        f"only {left} granted ({verdict.reason}): if the token has an explicit max TTL, it ends "
        f"then and only a fresh mint helps (renewer mint {sink}); if the token mount's max TTL "
        f"caps it, lift it (`{cli} auth tune -max-lease-ttl={format_duration(period)} token/`)"
    )
