"""The values the token core decides over.

Pure: frozen dataclasses and enums, built from Vault's JSON by pure parsers.
Parsing drops the token ``id`` on purpose: a secret never enters a value that
may be logged. Malformed Vault answers raise :class:`MalformedResponse`, which
the Vault adapter reports as a temporary failure (a proxy's HTML page or a
truncated body is not a verdict about the token).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from renewer.core.secret import Secret


class MalformedResponse(ValueError):
    """Vault's answer does not have the shape Vault documents."""


class SweepMode(Enum):
    """When a token sink's stale accessors are revoked (config ``sweep:``)."""

    ON_HEAL = "on-heal"  # ledger + full scan after a heal (default)
    LEDGER = "ledger"  # ledger only after a heal: for very large Vaults
    ALWAYS = "always"  # ledger + full scan on every run
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """What OUR token looks like (config ``expect:``): the drift guard's reference."""

    display_name: str  # as Vault reports it, e.g. "token-devvm-wizard"
    policies: frozenset[str]  # every one required
    period: int = 0  # seconds: the period we mint (config mint.period); 0 = any period


@dataclass(frozen=True, slots=True)
class MintSpec:
    """How to mint our periodic token (config ``mint:``)."""

    display_name: str  # as sent; Vault reports "token-" + sanitised name
    policies: tuple[str, ...]
    period: int  # seconds
    explicit_max_ttl: int = 0
    meta: Mapping[str, str] = field(default_factory=dict)


def _str(data: Mapping[str, Any], key: str, *, default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise MalformedResponse(f"field {key!r} is not a string")
    return value


def _int(data: Mapping[str, Any], key: str, *, default: int = 0) -> int:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedResponse(f"field {key!r} is not a number")
    if not math.isfinite(value) or value < 0:  # json.loads accepts NaN and Infinity
        raise MalformedResponse(f"field {key!r} is not a count of seconds")
    return int(value)


def _bool(data: Mapping[str, Any], key: str, *, default: bool = False) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise MalformedResponse(f"field {key!r} is not true/false")
    return value


def _names(data: Mapping[str, Any], key: str) -> frozenset[str]:
    value = data.get(key)
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedResponse(f"field {key!r} is not a list of names")
    return frozenset(value)


def _meta(data: Mapping[str, Any], key: str) -> tuple[tuple[str, str], ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise MalformedResponse(f"field {key!r} is not a map of strings")
    return tuple(sorted(value.items()))


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as ``lookup-self`` / ``lookup-accessor`` describe it, without its id."""

    accessor: str
    display_name: str
    policies: frozenset[str]
    ttl: int = 0
    period: int = 0
    creation_ttl: int = 0
    explicit_max_ttl: int = 0
    orphan: bool = False
    renewable: bool = False
    token_type: str = "service"
    identity_policies: frozenset[str] = frozenset()
    expire_time: str | None = None
    creation_time: int = 0
    path: str = ""
    num_uses: int = 0
    meta: tuple[tuple[str, str], ...] = ()  # Vault's token meta, sorted pairs (hashable)

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.meta)

    @classmethod
    def from_lookup(cls, data: object) -> TokenInfo:
        """Parse the ``data`` object of a lookup response; drop the token id."""
        if not isinstance(data, Mapping):
            raise MalformedResponse("lookup data is not an object")
        expire_time = data.get("expire_time")
        if expire_time is not None and not isinstance(expire_time, str):
            raise MalformedResponse("field 'expire_time' is not a string")
        return cls(
            accessor=_str(data, "accessor", default=""),
            display_name=_str(data, "display_name"),
            policies=_names(data, "policies"),
            ttl=_int(data, "ttl"),
            period=_int(data, "period"),
            creation_ttl=_int(data, "creation_ttl"),
            explicit_max_ttl=_int(data, "explicit_max_ttl"),
            orphan=_bool(data, "orphan"),
            renewable=_bool(data, "renewable"),
            token_type=_str(data, "type", default="service"),
            identity_policies=_names(data, "identity_policies"),
            expire_time=expire_time,
            creation_time=_int(data, "creation_time"),
            path=_str(data, "path", default=""),
            num_uses=_int(data, "num_uses"),
            meta=_meta(data, "meta"),
        )


@dataclass(frozen=True, slots=True)
class AuthGrant:
    """The ``auth`` object of a create or renew response."""

    client_token: Secret = field(repr=False)
    accessor: str
    policies: frozenset[str]
    lease_duration: int
    renewable: bool
    orphan: bool
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_response(cls, response: object, *, require_token: bool = True) -> AuthGrant:
        """Parse a whole create/renew response (``auth`` plus top-level ``warnings``)."""
        if not isinstance(response, Mapping):
            raise MalformedResponse("response is not an object")
        auth = response.get("auth")
        if not isinstance(auth, Mapping):
            raise MalformedResponse("response has no auth object")
        token = _str(auth, "client_token", default="")
        if require_token and not token:
            raise MalformedResponse("response has an empty client_token")
        if "lease_duration" not in auth:
            raise MalformedResponse("response has no lease_duration")
        warnings = response.get("warnings") or []
        if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
            raise MalformedResponse("field 'warnings' is not a list of strings")
        return cls(
            client_token=Secret(token),
            accessor=_str(auth, "accessor", default=""),
            policies=_names(auth, "policies"),
            lease_duration=_int(auth, "lease_duration"),
            renewable=_bool(auth, "renewable"),
            orphan=_bool(auth, "orphan"),
            warnings=tuple(warnings),
        )
