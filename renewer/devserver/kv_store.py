"""What the KV v2 mount stores: secrets with their versions, and the mount's config.

Below both the data handlers (``kv``) and the metadata and config handlers
(``kv_metadata``), which is why it is a room of its own; it also puts a
version's metadata in the shape every KV answer shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from renewer.devserver.durations import rfc3339_nano

DEFAULT_MAX_VERSIONS = 10


@dataclass(frozen=True, slots=True)
class Version:
    """One written version; *deletion_time* 0 means not deleted."""

    data: Mapping[str, Any] | None
    created_time: float
    deletion_time: float = 0.0
    destroyed: bool = False

    @property
    def live(self) -> bool:
        """Readable: neither soft-deleted nor destroyed."""
        return not self.destroyed and self.deletion_time == 0.0


@dataclass(slots=True)
class Secret:
    """A key's metadata and versions (mutable, under the state lock)."""

    created_time: float
    updated_time: float
    versions: dict[int, Version] = field(default_factory=dict)
    current_version: int = 0
    oldest_version: int = 0
    max_versions: int = 0
    cas_required: bool = False
    delete_version_after: int = 0
    custom_metadata: dict[str, str] | None = None


@dataclass(slots=True)
class KVConfig:
    """The mount's ``config`` endpoint settings."""

    max_versions: int = 0
    cas_required: bool = False
    delete_version_after: int = 0


class KVStore:
    """All secrets of the mount, by path."""

    def __init__(self) -> None:
        self.secrets: dict[str, Secret] = {}
        self.config = KVConfig()


def version_metadata(secret: Secret, number: int) -> dict[str, Any]:
    """A version's ``metadata`` as the data, write and metadata answers carry it."""
    version = secret.versions[number]
    return {
        "created_time": rfc3339_nano(version.created_time, utc=True),
        "custom_metadata": secret.custom_metadata,
        "deletion_time": rfc3339_nano(version.deletion_time, utc=True)
        if version.deletion_time
        else "",
        "destroyed": version.destroyed,
        "version": number,
    }
