"""Token arithmetic that Vault does the same way everywhere: TTLs, names, policy sets.

Pure functions of their arguments; the clock is a parameter.

* ``calculate_ttl`` is ``sdk/framework/lease.go``'s ``CalculateTTL``, used at
  creation, at login and at every renewal. Its two warning strings are the
  ones clients see when Vault caps a TTL or a period.
* ``sanitize_display_name`` is ``handleCreateCommon``'s display-name rule.
* ``sanitize_policies`` is ``policyutil.SanitizePolicies``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from renewer.devserver.durations import human_duration

DEFAULT_LEASE_TTL = 768 * 3600
"""Vault's system default TTL (768h) when neither mount nor role says otherwise."""

MAX_LEASE_TTL = 768 * 3600
"""Vault's system max TTL (768h); the token mount inherits it."""

_DISPLAY_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9-]")


class PastMaxTTL(ValueError):
    """Renewal asked for after the lease's hard end; Vault's message."""

    def __init__(self) -> None:
        super().__init__("past the max TTL, cannot renew")


@dataclass(frozen=True, slots=True)
class TTLDecision:
    """The TTL granted (whole seconds) and the warnings Vault attaches."""

    ttl: int
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TTLInputs:
    """Everything ``CalculateTTL`` looks at besides the clock, in seconds (0 = unset)."""

    increment: int = 0
    backend_ttl: int = 0
    period: int = 0
    backend_max_ttl: int = 0
    explicit_max_ttl: int = 0
    system_default_ttl: int = DEFAULT_LEASE_TTL
    system_max_ttl: int = MAX_LEASE_TTL


def calculate_ttl(inputs: TTLInputs, *, now: float, start: float) -> TTLDecision:
    """Grant a TTL the way Vault does at creation and renewal.

    Periodic tokens get their period (capped to the effective max, with a
    warning), bounded only by an explicit max TTL counted from *start*.
    Others get the increment, else the backend TTL, else the system default,
    bounded by *start* + the effective max TTL; when that bound cuts the TTL
    the warning names the requested TTL and the time actually left. Both
    times are truncated to whole seconds first, as Vault does.
    """
    now_s = math.floor(now)
    start_s = math.floor(start)
    max_ttl = inputs.system_max_ttl
    if 0 < inputs.backend_max_ttl < max_ttl:
        max_ttl = inputs.backend_max_ttl
    if 0 < inputs.explicit_max_ttl < max_ttl:
        max_ttl = inputs.explicit_max_ttl
    warnings: list[str] = []
    bound: int | None
    if inputs.period > 0:
        ttl = inputs.period
        if ttl > max_ttl:
            warnings.append(
                f'period of "{human_duration(ttl)}" exceeded the effective max_ttl of '
                f'"{human_duration(max_ttl)}"; period value is capped accordingly'
            )
            ttl = max_ttl
        bound = start_s + inputs.explicit_max_ttl if inputs.explicit_max_ttl > 0 else None
    else:
        ttl = inputs.increment or inputs.backend_ttl or inputs.system_default_ttl
        bound = start_s + max_ttl
    if bound is not None:
        left = bound - now_s
        if left <= 0:
            raise PastMaxTTL
        if left < ttl:
            warnings.append(
                f'TTL of "{human_duration(ttl)}" exceeded the effective max_ttl of '
                f'"{human_duration(left)}"; TTL value is capped accordingly'
            )
            ttl = left
    return TTLDecision(ttl=ttl, warnings=tuple(warnings))


def sanitize_display_name(requested: str) -> str:
    """``token-`` + the name, non ``[a-zA-Z0-9-]`` chars to ``-``, one trailing ``-`` off.

    Case is kept. An empty request gives plain ``token``.
    """
    if not requested:
        return "token"
    full = _DISPLAY_NAME_UNSAFE.sub("-", "token-" + requested)
    return full.removesuffix("-")


def sanitize_policies(policies: Iterable[str], *, add_default: bool) -> tuple[str, ...]:
    """Lower-case, trim, drop empties, de-duplicate, sort; ``root`` swallows the rest.

    ``default`` is appended when *add_default* unless it is there already or the
    set is ``root``.
    """
    cleaned: list[str] = []
    for policy in policies:
        name = policy.strip().lower()
        if not name:
            continue
        if name == "root":
            return ("root",)
        cleaned.append(name)
    if add_default and "default" not in cleaned:
        cleaned.append("default")
    return tuple(sorted(set(cleaned)))
