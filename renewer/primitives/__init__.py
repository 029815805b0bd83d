"""Primitives: the few ways a credential can work (seed 004 §3, product.md §3).

Each implements :class:`renewer.primitives.base.Primitive` and is chosen by
:func:`primitive_for` from the recipe's ``primitive``: ``static_key``,
``oauth2``, ``service_account`` (Google / RFC 7523 JWT bearer, AWS SigV4 and
STS) and ``mtls`` (client certificates, renewed from Vault PKI).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from renewer.errors import RecipeError
from renewer.primitives.base import Primitive

if TYPE_CHECKING:
    from renewer.credentials.spec import PkiSettings
    from renewer.vault import PkiIssuer

AVAILABLE = ("static_key", "oauth2", "service_account", "mtls")
IssuerFactory = Callable[["PkiSettings"], "PkiIssuer"]


def primitive_for(
    name: str, *, pki: PkiSettings | None = None, issuer: IssuerFactory | None = None
) -> Primitive:
    """The primitive called *name*; ``RecipeError`` (exit 78) when this build has none.

    *pki* and *issuer* are the credential's ``pki:`` settings and how to
    reach Vault PKI with them (mtls only).
    """
    if name == "static_key":
        from renewer.primitives.static_key import StaticKey

        return StaticKey()
    if name == "oauth2":
        from renewer.primitives.oauth2 import OAuth2

        return OAuth2()
    if name == "service_account":
        from renewer.primitives.service_account import ServiceAccount

        return ServiceAccount()
    if name == "mtls":
        from renewer.primitives.mtls import Mtls

        return Mtls(pki=pki, issuer=issuer)
    raise RecipeError(
        f"the {name} primitive is not available in this version of renewer "
        f"(available: {', '.join(AVAILABLE)})",
        hint="use a recipe with one of the available primitives",
    )
