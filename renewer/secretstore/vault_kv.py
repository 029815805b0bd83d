"""Vault KV v2 as a secret store: the natural one on a devvm, using the token renewer keeps alive.

Paths, relative to the mount (``secrets.vault.mount``, default ``secret``)::

    <prefix>/secret/<service>/<instance>     what `renewer creds set` stored
    <prefix>/runtime/<service>/<instance>    what refreshes maintain

Every write is a check-and-set (``cas``) against the version just read, so
two writers (two machines sharing a Vault, a run and a manual ``creds
set``) cannot lose each other's update: the loser re-reads, re-applies its
change to the winner's data, and writes again, a bounded number of times.

This module does not import hvac: it talks to a :class:`KVBackend`, which
``renewer/vault/`` (the only hvac importer) implements. Tests use an
in-memory double that enforces ``cas`` like Vault does.
"""

from __future__ import annotations

from typing import Protocol

from renewer.errors import CredentialError, ServiceUnavailable
from renewer.secretstore.base import Change, Namespace, Record, SecretRef

DEFAULT_CAS_ATTEMPTS = 5


class CasMismatch(Exception):
    """The path's current version is not the one the write was based on (Vault's 400)."""


class KVBackend(Protocol):
    """One KV v2 mount, reached with one token. Paths are relative to the mount.

    ``read`` returns ``(data, version)`` for the latest version, or None when
    the path has never been written. A deleted or destroyed latest version
    reads as ``({}, version)``, so that a ``cas`` write can follow it.

    ``write`` stores *data* as a new version only if the latest version is
    *cas* (0: only if the path has never been written) and returns the new
    version; otherwise it raises :class:`CasMismatch`. Other failures raise
    renewer errors (``VaultUnavailable``, ``VaultDenied``, ...).
    """

    def read(self, path: str) -> tuple[dict[str, str], int] | None: ...

    def write(self, path: str, data: dict[str, str], *, cas: int) -> int: ...


class VaultKVStore:
    """Records of refs as KV v2 secrets under *prefix* on the backend's mount."""

    kind = "vault"

    def __init__(
        self,
        backend: KVBackend,
        *,
        mount: str = "secret",
        prefix: str = "renewer",
        attempts: int = DEFAULT_CAS_ATTEMPTS,
    ) -> None:
        self.backend = backend
        self.mount = mount.strip("/")
        self.prefix = prefix.strip("/")
        self.attempts = attempts

    def path(self, ref: SecretRef, namespace: Namespace) -> str:
        parts = [self.prefix, namespace.value, ref.service, ref.instance]
        return "/".join(part for part in parts if part)

    def location(self, ref: SecretRef, namespace: Namespace) -> str:
        return f"vault kv {self.mount}/{self.path(ref, namespace)}"

    def read(self, ref: SecretRef, namespace: Namespace) -> Record | None:
        found = self.backend.read(self.path(ref, namespace))
        if found is None or not found[0]:
            return None
        return _checked(found[0], ref, namespace, self.location(ref, namespace))

    def update(self, ref: SecretRef, namespace: Namespace, change: Change) -> Record:
        path = self.path(ref, namespace)
        for _ in range(self.attempts):
            found = self.backend.read(path)
            data, version = (found[0] or None, found[1]) if found else (None, 0)
            current = (
                _checked(data, ref, namespace, self.location(ref, namespace)) if data else None
            )
            record = change(current)
            try:
                self.backend.write(path, record, cas=version)
            except CasMismatch:
                continue
            return record
        raise ServiceUnavailable(
            f"{ref} ({namespace.value}): {self.location(ref, namespace)} kept changing; "
            f"gave up after {self.attempts} check-and-set attempts",
            hint="another machine or process is writing the same secret; try again later",
        )


def _checked(data: object, ref: SecretRef, namespace: Namespace, location: str) -> Record:
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise CredentialError(
            f"{ref} ({namespace.value}): {location} does not hold a mapping of strings",
            hint="renewer writes only string values there; check what else writes that path",
        )
    return dict(data)
