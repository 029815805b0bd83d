"""AppRole secret-ids as renewer values, parsed from Vault's JSON.

Pure. A generated secret-id travels as a :class:`~renewer.core.secret.Secret`;
lookups never carry the value (Vault does not return it), only the accessor
and metadata, which are safe to log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from renewer.core.model import MalformedResponse
from renewer.core.secret import Secret


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedResponse(f"field {key!r} is not a non-empty string")
    return value


def _count(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedResponse(f"field {key!r} is not a number")
    if not math.isfinite(value) or value < 0:  # json.loads accepts NaN and Infinity
        raise MalformedResponse(f"field {key!r} is not a count")
    return int(value)


@dataclass(frozen=True, slots=True)
class SecretIdGrant:
    """A freshly generated secret-id (``POST auth/<mount>/role/<r>/secret-id``)."""

    secret_id: Secret = field(repr=False)
    accessor: str
    ttl: int  # seconds; 0 = never expires
    num_uses: int  # 0 = unlimited

    @classmethod
    def from_data(cls, data: object) -> SecretIdGrant:
        if not isinstance(data, Mapping):
            raise MalformedResponse("secret-id data is not an object")
        return cls(
            secret_id=Secret(_text(data, "secret_id")),
            accessor=_text(data, "secret_id_accessor"),
            ttl=_count(data, "secret_id_ttl"),
            num_uses=_count(data, "secret_id_num_uses"),
        )


@dataclass(frozen=True, slots=True)
class SecretIdInfo:
    """A secret-id as a lookup describes it (no value)."""

    accessor: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    ttl: int = 0
    num_uses: int = 0
    expiration_time: str = ""

    @classmethod
    def from_data(cls, data: object) -> SecretIdInfo:
        if not isinstance(data, Mapping):
            raise MalformedResponse("secret-id lookup data is not an object")
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise MalformedResponse("field 'metadata' is not an object")
        expiration = data.get("expiration_time") or ""
        return cls(
            accessor=_text(data, "secret_id_accessor"),
            metadata={str(key): str(value) for key, value in metadata.items()},
            ttl=_count(data, "secret_id_ttl"),
            num_uses=_count(data, "secret_id_num_uses"),
            expiration_time=expiration if isinstance(expiration, str) else "",
        )
