"""Shared bits of the conformance tests: Vault's exact strings and small setups.

Every helper goes through the HTTP API, so the same code runs against a real
Vault. Names are unique per call: the server is shared by the whole session.
"""

from __future__ import annotations

from typing import Any

import hvac.exceptions

from renewer.devserver.protocol import multierror
from tests.devserver.differences import INVALID_TOKEN, INVALID_TOKEN_VARIANTS
from tests.vaultpeer import VaultPeer, unique

__all__ = ["INVALID_TOKEN", "INVALID_TOKEN_VARIANTS"]

DENIED = multierror("permission denied")
"""A valid token whose policies do not allow the request."""
LOOKUP_FIELDS = frozenset(
    {
        "id",
        "accessor",
        "policies",
        "path",
        "meta",
        "display_name",
        "num_uses",
        "orphan",
        "creation_time",
        "creation_ttl",
        "expire_time",
        "ttl",
        "explicit_max_ttl",
        "entity_id",
        "type",
    }
)
"""The ``data`` keys ``handleLookup`` always returns (reference §2.2)."""


def put_policy(vault: VaultPeer, rules: str, *, prefix: str = "pol") -> str:
    """Store an ACL policy under a fresh name; returns the name."""
    name = unique(prefix)
    vault.client().sys.create_or_update_acl_policy(name=name, policy=rules)
    return name


def make_token(vault: VaultPeer, *, token: str | None = None, **kwargs: Any) -> str:
    """Create a token (as root unless *token*), return its id."""
    response = vault.client(token).auth.token.create(**kwargs)
    client_token: str = response["auth"]["client_token"]
    return client_token


def create_reply(vault: VaultPeer, *, token: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """The full create reply (auth, warnings)."""
    reply: dict[str, Any] = vault.client(token).auth.token.create(**kwargs)
    return reply


def lookup(vault: VaultPeer, token: str) -> dict[str, Any]:
    """``lookup-self`` data of *token*, using the token itself."""
    data: dict[str, Any] = vault.client(token).auth.token.lookup_self()["data"]
    return data


def errors(exc: hvac.exceptions.VaultError) -> list[str]:
    """The ``errors`` list of an hvac exception (hvac parses it only for JSON)."""
    return list(exc.errors or [])


CREATE_ONLY = 'path "auth/token/create" { capabilities = ["update"] }'
"""A policy that may create child tokens but has no sudo."""
