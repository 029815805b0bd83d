"""The drift guard: is the token in a sink OUR token?

Pure. A token is ours when it is what renewer mints for this sink:

* Vault reports our display name (with the ``token-`` prefix Vault adds) and
  every required policy;
* it is **periodic** (with the configured period, when the spec names one)
  and an **orphan**. A token with our name and policies but a plain TTL, or a
  child of another token, is not something renewals can keep alive: renewing
  it and calling it ours once cost a user the real periodic token, which the
  same run's sweep then revoked as "superseded" (issue 15). Such a weaker
  token is drift, and the heal mints the periodic orphan with its authority;
* its owner marks (``renewer.core.owner``) do not name another machine, home
  or sink: another renewer's token copied into our file is not ours to keep
  alive (its owner will retire it one day). Unmarked and pre-marks tokens
  are accepted, so tokens minted by hand or by older releases keep working.

Anything else is a foreign token that some login wrote over our file: the
renewer must never keep it alive (seed 003: a read-only kubernetes token was
silently renewed for two days). The verdict carries reasons so
``token.drift`` can say what differed, and the check is monotonic in
policies: adding policies to a token never turns an ok verdict into drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from renewer.core.duration import format_duration
from renewer.core.model import TokenInfo, TokenSpec
from renewer.core.owner import Ownership, describe_elsewhere, ownership


@dataclass(frozen=True, slots=True)
class Verdict:
    """ok, or the reasons it is not."""

    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons

    def explain(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "ok"


def check_drift(info: TokenInfo, spec: TokenSpec, *, owner: str, sink: str) -> Verdict:
    """Compare a looked-up token with what our token for *sink* must look like.

    *owner* is this installation's owner id (``renewer.core.owner.owner_id``).
    """
    reasons: list[str] = []
    if info.display_name != spec.display_name:
        reasons.append(f"display name is {info.display_name!r}, expected {spec.display_name!r}")
    missing = sorted(spec.policies - info.policies)
    if missing:
        reasons.append(f"missing policies {', '.join(missing)}")
    if not reasons:  # named and empowered like ours: is it the token we mint?
        reasons.extend(_weaker_than_ours(info, spec, owner=owner, sink=sink))
    return Verdict(tuple(reasons))


def _weaker_than_ours(info: TokenInfo, spec: TokenSpec, *, owner: str, sink: str) -> list[str]:
    reasons: list[str] = []
    if info.period <= 0:
        reasons.append(
            f"not periodic (a plain TTL of {format_duration(info.creation_ttl)}): "
            "it dies at its max TTL whatever renewals do"
        )
    elif spec.period and info.period != spec.period:
        reasons.append(
            f"period is {format_duration(info.period)}, the config mints "
            f"{format_duration(spec.period)}"
        )
    if not info.orphan:
        reasons.append("not an orphan: it dies with the token that created it")
    if ownership(info.metadata, owner=owner, sink=sink) is Ownership.ELSEWHERE:
        reasons.append(
            "minted by renewer for another machine, home or sink "
            f"({describe_elsewhere(info.metadata)})"
        )
    return reasons
