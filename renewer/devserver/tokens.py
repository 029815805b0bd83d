"""A token as a record, and what Vault says about one: ``lookup`` data, the ``auth`` block.

Follows ``vault/token_store.go``: the ``TokenEntry`` and its ``Lease`` (the
expiration manager's record), fresh token ids and accessors in Vault's
forms, and the two JSON shapes every token reply is built from. Shared by
the token handlers, AppRole login and the dev controls, which is why it is
apart from ``token_store`` (the store that holds, expires and revokes the
entries).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from renewer.devserver.durations import rfc3339_nano

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


_BYTE_TO_BASE62 = bytes(ord(_BASE62[i % 62]) for i in range(256))
_BIASED = bytes(range(248, 256))  # 248 = 4 * 62: bytes above it would favour "0"-"7"


def random_base62(length: int) -> str:
    """*length* uniformly random base62 characters, as Vault's token and accessor bodies."""
    text = b""
    while len(text) < length:
        text += secrets.token_bytes(length + 8).translate(_BYTE_TO_BASE62, _BIASED)
    return text[:length].decode()


class TokenType(Enum):
    """``service`` tokens are stored and renewable; ``batch`` tokens are neither."""

    SERVICE = "service"
    BATCH = "batch"


@dataclass(frozen=True, slots=True)
class Lease:
    """The expiration manager's record of a token (times are epoch seconds).

    *ttl* is the TTL last granted: a renewal without an increment grants it
    again. *backend_ttl*/*backend_max_ttl* are what an auth method (AppRole)
    feeds into renewals.
    """

    issue_time: float
    expire_time: float
    ttl: int
    renewable: bool
    last_renewal: float | None = None
    backend_max_ttl: int = 0


@dataclass(frozen=True, slots=True)
class TokenEntry:
    """One token. *creation_ttl* never changes; *lease* does, on renewal."""

    id: str
    accessor: str
    policies: tuple[str, ...]
    path: str
    meta: Mapping[str, str] | None
    display_name: str
    num_uses: int
    creation_time: float
    creation_ttl: int
    explicit_max_ttl: int
    period: int
    parent: str
    type: TokenType
    lease: Lease | None
    entity_id: str = ""

    @property
    def orphan(self) -> bool:
        """Vault reports ``orphan: true`` for exactly the tokens without a parent."""
        return self.parent == ""

    @property
    def is_root(self) -> bool:
        """Holds the ``root`` policy (which then is its only policy)."""
        return self.policies == ("root",)


@dataclass(frozen=True, slots=True)
class RenewParams:
    """What an auth method's renew handler feeds into ``CalculateTTL``."""

    backend_ttl: int
    backend_max_ttl: int
    period: int
    explicit_max_ttl: int


def new_token_id(token_type: TokenType) -> str:
    """A fresh token id: ``hvs.`` + 24 base62, or a long opaque ``hvb.`` blob.

    Vault's service tokens take this short form when server-side consistent
    tokens are off; batch tokens are always long encrypted blobs.
    """
    if token_type is TokenType.BATCH:
        return "hvb.AAAAAQ" + secrets.token_urlsafe(96).replace("-", "J").replace("_", "Q")
    return "hvs." + random_base62(24)


def new_accessor() -> str:
    """24 base62 characters, as Vault's accessors."""
    return random_base62(24)


def lookup_data(entry: TokenEntry, now: float, *, token_id: str | None = None) -> dict[str, Any]:
    """The ``data`` of ``lookup``/``lookup-self``/``lookup-accessor`` (``handleLookup``).

    *token_id* replaces ``id`` (``""`` for lookup-accessor).
    """
    data: dict[str, Any] = {
        "id": entry.id if token_id is None else token_id,
        "accessor": entry.accessor,
        "policies": list(entry.policies),
        "path": entry.path,
        "meta": dict(entry.meta) if entry.meta is not None else None,
        "display_name": entry.display_name,
        "num_uses": entry.num_uses,
        "orphan": entry.orphan,
        "creation_time": int(entry.creation_time),
        "creation_ttl": entry.creation_ttl,
        "expire_time": None,
        "ttl": 0,
        "explicit_max_ttl": entry.explicit_max_ttl,
        "entity_id": entry.entity_id,
        "type": entry.type.value,
    }
    if entry.period:
        data["period"] = entry.period
    lease = entry.lease
    if lease is not None:
        if lease.last_renewal is not None:
            data["last_renewal_time"] = int(lease.last_renewal)
            data["last_renewal"] = rfc3339_nano(lease.last_renewal)
        if lease.expire_time > 0:
            data["expire_time"] = rfc3339_nano(lease.expire_time)
            data["ttl"] = int(lease.expire_time - round(now))
        # leaseEntry.renewable(): never for a lease without expiry or marked so.
        data["renewable"] = lease.renewable and lease.expire_time > now
        data["issue_time"] = rfc3339_nano(lease.issue_time)
    return data


def auth_block(entry: TokenEntry, *, ttl: int, client_token: str | None = None) -> dict[str, Any]:
    """The ``auth`` object of create, login and renew replies, in Vault's key order."""
    renewable = entry.lease.renewable if entry.lease is not None else False
    block: dict[str, Any] = {
        "client_token": entry.id if client_token is None else client_token,
        "accessor": entry.accessor,
        "policies": list(entry.policies),
    }
    if entry.policies:  # HTTPAuth.TokenPolicies is omitempty
        block["token_policies"] = list(entry.policies)
    return block | {
        "metadata": dict(sorted(entry.meta.items())) if entry.meta is not None else None,
        "lease_duration": ttl,
        "renewable": renewable,
        "entity_id": entry.entity_id,
        "token_type": entry.type.value,
        "orphan": entry.orphan,
        "mfa_requirement": None,
        "num_uses": entry.num_uses,
    }
