"""Self-heal: what to mint when a foreign token sits in a sink, and whether to accept it.

Pure. The heal asks Vault to mint our periodic token *with the clobbering
token's own authority*; Vault's answer (403, or a 400 denial) is the judge of
whether that is allowed, never a guess from policy names (seed 003). The
minted token is accepted only if it passes the same drift guard and really is
the periodic orphan we asked for; otherwise the shell revokes it and keeps
the file as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from renewer.core.drift import Verdict, check_drift
from renewer.core.model import MintSpec, TokenInfo, TokenSpec

MINTED_BY = "renewer"


@dataclass(frozen=True, slots=True)
class MintRequest:
    """The body of ``POST auth/token/create-orphan``; the shell sends it unchanged."""

    display_name: str
    policies: tuple[str, ...]
    period: str
    explicit_max_ttl: str | None
    meta: Mapping[str, str] = field(default_factory=dict)

    def as_body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "display_name": self.display_name,
            "policies": list(self.policies),
            "period": self.period,
            "renewable": True,
            "no_parent": True,
            "meta": dict(self.meta),
        }
        if self.explicit_max_ttl:
            body["explicit_max_ttl"] = self.explicit_max_ttl
        return body


@dataclass(frozen=True, slots=True)
class HealPlan:
    """What a heal of one sink will do, for the shell to execute or ``--dry-run`` to print."""

    sink: str
    foreign_display_name: str
    reasons: tuple[str, ...]
    mint: MintRequest

    def describe(self) -> str:
        return (
            f"mint a periodic token {self.mint.display_name!r} "
            f"(period {self.mint.period}, policies {', '.join(self.mint.policies)}) "
            f"with the authority of the foreign token {self.foreign_display_name!r}, "
            "check it, replace the file atomically, then sweep stale tokens"
        )


def plan_heal(sink: str, foreign: TokenInfo, verdict: Verdict, mint: MintSpec) -> HealPlan:
    """The heal for *sink*, whose token *foreign* failed the drift guard with *verdict*."""
    meta = {"created-by": MINTED_BY, "sink": sink, **mint.meta}
    return HealPlan(
        sink=sink,
        foreign_display_name=foreign.display_name,
        reasons=verdict.reasons,
        mint=MintRequest(
            display_name=mint.display_name,
            policies=mint.policies,
            period=f"{mint.period}s",
            explicit_max_ttl=f"{mint.explicit_max_ttl}s" if mint.explicit_max_ttl else None,
            meta=meta,
        ),
    )


def accept_minted(info: TokenInfo, spec: TokenSpec, mint: MintSpec) -> Verdict:
    """Is the token we just minted (looked up with itself) fit to replace the file?

    It must pass the drift guard, be periodic with the period we asked for,
    be an orphan (it must outlive whatever token minted it), be renewable and
    be a service token (batch tokens cannot be renewed).
    """
    reasons = list(check_drift(info, spec).reasons)
    if info.period != mint.period:
        reasons.append(f"period is {info.period}s, expected {mint.period}s")
    if not info.orphan:
        reasons.append("not an orphan: it would die with the token that minted it")
    if not info.renewable:
        reasons.append("not renewable")
    if info.token_type != "service":
        reasons.append(f"type is {info.token_type!r}, expected 'service'")
    if not info.accessor:
        reasons.append("no accessor: it could never be swept")
    return Verdict(tuple(reasons))
