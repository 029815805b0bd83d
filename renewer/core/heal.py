"""Self-heal: what to mint when a foreign token sits in a sink, and whether to accept it.

Pure. The heal asks Vault to mint our periodic token *with the clobbering
token's own authority*; Vault's answer (403, or a 400 denial) is the judge of
whether that is allowed, never a guess from policy names (seed 003). The
minted token is accepted only if it passes the same drift guard and really is
the periodic orphan we asked for, carrying our owner marks; otherwise the
shell revokes it and keeps the file as it was.

``--dry-run`` and ``renewer check`` may not mint, so they ask Vault a
read-only question instead (``sys/capabilities-self`` on the mint path) and
:func:`predict_heal` turns the answer into the outcome a real run would have,
by the rules Vault's token store applies to ``create-orphan`` with a
``period`` (``shared/reference/vault-token-semantics.md`` §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from renewer.core.drift import Verdict, check_drift
from renewer.core.duration import format_duration
from renewer.core.model import MintSpec, TokenInfo, TokenSpec
from renewer.core.owner import Ownership, mint_meta, ownership

MINTED_BY = "renewer"  # the created-by mark of AppRole secret-ids renewer issues
MINT_PATH = "auth/token/create-orphan"
SCAN_PATH = "auth/token/accessors"


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


def mint_request(sink: str, mint: MintSpec, *, owner: str, rotation: str = "") -> MintRequest:
    """What renewer asks Vault for when it mints *sink*'s token (heal, mint, rotation)."""
    return MintRequest(
        display_name=mint.display_name,
        policies=mint.policies,
        period=f"{mint.period}s",
        explicit_max_ttl=f"{mint.explicit_max_ttl}s" if mint.explicit_max_ttl else None,
        meta=mint_meta(owner, sink, extra=mint.meta, rotation=rotation),
    )


@dataclass(frozen=True, slots=True)
class HealPlan:
    """What a heal of one sink will do, for the shell to execute or ``--dry-run`` to print.

    *source* says where the authority came from (``~/.vault-token``,
    ``$VAULT_TOKEN``, ``--from-file PATH``): every message names it, so a
    person knows which token to replace when Vault says no.
    """

    sink: str
    foreign_display_name: str
    reasons: tuple[str, ...]
    mint: MintRequest
    source: str = ""
    foreign: TokenInfo | None = None  # the authority as it looked itself up (for --dry-run)

    def authority(self) -> str:
        where = f" from {self.source}" if self.source else ""
        return f"{self.foreign_display_name!r}{where}"

    def describe(self) -> str:
        return (
            f"mint a periodic token {self.mint.display_name!r} "
            f"(period {format_duration(int(self.mint.period.rstrip('s')))}, "
            f"policies {', '.join(self.mint.policies)}) with the authority of "
            f"{self.authority()}, check it, replace the file atomically, then sweep stale tokens"
        )


def plan_heal(
    sink: str,
    foreign: TokenInfo,
    verdict: Verdict,
    mint: MintSpec,
    *,
    owner: str,
    source: str = "",
) -> HealPlan:
    """The heal for *sink*, whose token *foreign* failed the drift guard with *verdict*."""
    return HealPlan(
        sink=sink,
        foreign_display_name=foreign.display_name,
        reasons=verdict.reasons,
        mint=mint_request(sink, mint, owner=owner),
        source=source,
        foreign=foreign,
    )


def accept_minted(
    info: TokenInfo, spec: TokenSpec, mint: MintSpec, *, owner: str, sink: str
) -> Verdict:
    """Is the token we just minted (looked up with itself) fit to replace the file?

    It must pass the drift guard, be periodic with the period we asked for,
    be an orphan (it must outlive whatever token minted it), be renewable, be
    a service token (batch tokens cannot be renewed), and carry our owner
    marks (without them another machine's full scan could revoke it).
    """
    ours = replace(spec, period=mint.period)
    reasons = list(check_drift(info, ours, owner=owner, sink=sink).reasons)
    if not info.renewable:
        reasons.append("not renewable")
    if info.token_type != "service":
        reasons.append(f"type is {info.token_type!r}, expected 'service'")
    if not info.accessor:
        reasons.append("no accessor: it could never be swept")
    if ownership(info.metadata, owner=owner, sink=sink) is not Ownership.MINE:
        reasons.append("it does not carry our owner marks (meta renewer_machine/renewer_sink)")
    return Verdict(tuple(reasons))


@dataclass(frozen=True, slots=True)
class HealForecast:
    """What a real run's mint would get from Vault, predicted read-only.

    *allowed* is None when Vault could not be asked (the prediction is then
    "unknown", and the real run lets Vault judge).
    """

    allowed: bool | None
    reason: str
    full_scan: bool | None = None  # may the authority list every accessor (the full scan)?

    def words(self) -> str:
        if self.allowed is None:
            return f"cannot predict the heal ({self.reason})"
        return f"the heal would {'succeed' if self.allowed else 'be DENIED'}: {self.reason}"


def predict_heal(
    authority: TokenInfo,
    capabilities: Mapping[str, frozenset[str]] | None,
    *,
    why_unknown: str = "",
) -> HealForecast:
    """Would Vault let *authority* mint our periodic orphan, given its *capabilities*?

    *capabilities* maps paths to what ``sys/capabilities-self`` answered
    (``root``, ``deny``, or a subset of ``create read update delete list
    sudo patch``); None when that question itself was refused. Vault's token
    store requires, for ``create-orphan`` with a ``period``: ``update`` on the
    path (the ACL), ``root`` or ``sudo`` on it (periodic tokens), a service
    token (batch tokens cannot create tokens) with no use limit (restricted
    use tokens cannot create tokens). With sudo, any policies may be assigned.
    """
    if authority.token_type == "batch":
        return HealForecast(False, "batch tokens cannot create more tokens")
    if authority.num_uses > 0:
        return HealForecast(False, "a limited-use token cannot create tokens")
    if capabilities is None:
        return HealForecast(None, why_unknown or "sys/capabilities-self was refused")
    mint_caps = capabilities.get(MINT_PATH, frozenset())
    scan_caps = capabilities.get(SCAN_PATH)
    full_scan = None if scan_caps is None else _may_list_accessors(scan_caps)
    if "root" in mint_caps:
        return HealForecast(True, "a root token may mint anything", full_scan)
    if "update" not in mint_caps:
        held = ", ".join(sorted(mint_caps)) or "none"
        return HealForecast(
            False, f"no update capability on {MINT_PATH} (it has: {held})", full_scan
        )
    if "sudo" not in mint_caps:
        return HealForecast(
            False,
            f"update but no sudo on {MINT_PATH}: Vault requires root or sudo to create a "
            "periodic token",
            full_scan,
        )
    return HealForecast(True, f"Vault grants update and sudo on {MINT_PATH}", full_scan)


def _may_list_accessors(caps: frozenset[str]) -> bool:
    return "root" in caps or {"list", "sudo"} <= caps
