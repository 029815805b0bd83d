"""``static_key``: a secret that does not expire by itself (API key, bearer token, Basic auth).

Seed 004 §3.1. Nothing to refresh: the recipe's ``inject`` block places the
secret on each request (header, query, JSON body or Basic auth, several at
once if the recipe says so), and the test proves it still works. When it
stops working, a person sets a new one: ``renewer creds set NAME``.
"""

from __future__ import annotations

from renewer.primitives.base import Primitive


class StaticKey(Primitive):
    """An API key or token stored as it is."""

    name = "static_key"
