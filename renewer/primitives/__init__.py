"""Primitives: the few ways a credential can work (seed 004 §3, product.md §3).

Each implements :class:`renewer.primitives.base.Primitive`. ``static_key``
and ``oauth2`` are here; ``service_account`` and ``mtls`` come with a later
issue and plug into :func:`primitive_for` the same way.
"""

from __future__ import annotations

from renewer.errors import RecipeError
from renewer.primitives.base import Primitive

AVAILABLE = ("static_key", "oauth2")


def primitive_for(name: str) -> Primitive:
    """The primitive called *name*; ``RecipeError`` (exit 78) when this build has none."""
    if name == "static_key":
        from renewer.primitives.static_key import StaticKey

        return StaticKey()
    if name == "oauth2":
        from renewer.primitives.oauth2 import OAuth2

        return OAuth2()
    raise RecipeError(
        f"the {name} primitive is not available in this version of renewer "
        f"(available: {', '.join(AVAILABLE)})",
        hint="use a recipe with one of the available primitives",
    )
