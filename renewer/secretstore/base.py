"""What every secret store offers: records by ``service/instance`` ref, in two namespaces.

Design: seed 004 §8. A *ref* names one account of one service
(``notion/prod``, ``google_calendar/workspace-a``); a service may have many.
Each ref has two records, kept apart:

* ``secret``: what a person provided with ``renewer creds set`` (API key,
  client id and secret). Changed only by a person.
* ``runtime``: what the primitive maintains (access token, refresh token,
  expiry). Changed by every refresh.

A record is a flat ``str → str`` mapping, so every store keeps the same
shape (Vault KV v2 data, one encrypted JSON object in the local store).
Stores never log or print values; their errors name the ref.

Writes are read-modify-write through :meth:`SecretStore.update`: the store
re-reads and re-applies *change* if another writer got there first (Vault's
``cas``, a lock for the local store), so two writers cannot lose an update.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

Record = dict[str, str]
Change = Callable[[Record | None], Record]

PART_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
_REF = re.compile(rf"^({PART_PATTERN})/({PART_PATTERN})$")


ROTATION_VERSION = "_rotation_version"
"""A static rotation's compare-and-set counter, kept inside the secret record."""


def is_label(key: str) -> bool:
    """Does field *key* of a secret record hold a label rather than a secret?

    A static rotation keeps key ids beside the values it rotates
    (``secret.id``, ``secret.previous.id``) and a version counter. Those are
    labels that logs and ``status`` may show (``k-c2dd…``), never masked as
    secrets. Recipe fields cannot contain a dot, so no recipe field is one.
    """
    return key.endswith(".id") or key == ROTATION_VERSION


class Namespace(Enum):
    """The two records of a ref."""

    SECRET = "secret"
    RUNTIME = "runtime"


@dataclass(frozen=True, slots=True, order=True)
class SecretRef:
    """``service/instance``: which account's secret."""

    service: str
    instance: str

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        """``"notion/prod"`` → ``SecretRef("notion", "prod")``; ``ValueError`` otherwise."""
        match = _REF.match(text)
        if match is None or ".." in text:
            raise ValueError(f"expected service/instance, got {text!r}")
        return cls(match.group(1), match.group(2))

    def __str__(self) -> str:
        return f"{self.service}/{self.instance}"


class SecretStore(Protocol):
    """Where a credential's records live."""

    kind: str  # "local" or "vault"

    def read(self, ref: SecretRef, namespace: Namespace) -> Record | None:
        """The record, or None when there is none. Raise ``CredentialError`` when unreadable."""
        ...

    def update(self, ref: SecretRef, namespace: Namespace, change: Change) -> Record:
        """Store ``change(current)``; re-apply *change* if another writer intervened."""
        ...

    def location(self, ref: SecretRef, namespace: Namespace) -> str:
        """Where the record lives, for messages (a path, a Vault path)."""
        ...


def replace_with(record: Mapping[str, str]) -> Change:
    """A change that replaces the record with *record*."""
    snapshot = dict(record)
    return lambda _current: dict(snapshot)


def merge_with(record: Mapping[str, str]) -> Change:
    """A change that sets *record*'s keys and keeps the others."""
    snapshot = dict(record)
    return lambda current: {**(current or {}), **snapshot}
