"""The drift guard: is the token in a sink OUR token?

Pure. A token is ours when Vault reports our display name (with the
``token-`` prefix Vault adds) and every required policy. Anything else is a
foreign token that some login wrote over our file: the renewer must never
keep it alive (seed 003: a read-only kubernetes token was silently renewed
for two days). The verdict carries reasons so ``token.drift`` can say what
differed, and the check is monotonic in policies: adding policies to a token
never turns an ok verdict into drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from renewer.core.model import TokenInfo, TokenSpec


@dataclass(frozen=True, slots=True)
class Verdict:
    """ok, or the reasons it is not."""

    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reasons

    def explain(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "ok"


def check_drift(info: TokenInfo, spec: TokenSpec) -> Verdict:
    """Compare a looked-up token with what our token must look like."""
    reasons: list[str] = []
    if info.display_name != spec.display_name:
        reasons.append(f"display name is {info.display_name!r}, expected {spec.display_name!r}")
    missing = sorted(spec.policies - info.policies)
    if missing:
        reasons.append(f"missing policies {', '.join(missing)}")
    return Verdict(tuple(reasons))
