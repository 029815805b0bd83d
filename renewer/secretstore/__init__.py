"""Secret stores: where credentials' secrets and runtime state live (seed 004 §8).

:mod:`.base` defines refs, namespaces and the store protocol; :mod:`.local`
is the encrypted file store (the embedded default); :mod:`.vault_kv` is
Vault KV v2 through a :class:`~renewer.secretstore.vault_kv.KVBackend`.
:class:`Stores` opens each configured store once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from renewer.errors import ConfigError
from renewer.secretstore.base import Namespace, Record, SecretRef, SecretStore

if TYPE_CHECKING:
    from renewer.config import Config
    from renewer.secretstore.vault_kv import KVBackend

# (config, mount, token sink name) → a KV v2 backend bound to that mount and token.
KVBackendFactory = Callable[["Config", str, str], "KVBackend"]

__all__ = ["KVBackendFactory", "Namespace", "Record", "SecretRef", "SecretStore", "Stores"]


def default_kv_backend(config: Config, mount: str, token_sink: str) -> KVBackend:
    """The hvac-backed KV backend (``renewer.vault`` is the only package that imports hvac)."""
    from renewer.vault import kv_backend

    return kv_backend(config, mount=mount, token_sink=token_sink)


class Stores:
    """The stores of one configuration, opened on first use."""

    def __init__(self, config: Config, *, kv_backend: KVBackendFactory | None = None) -> None:
        self._config = config
        self._kv_backend = kv_backend or default_kv_backend
        self._opened: dict[str, SecretStore] = {}

    def get(self, kind: str) -> SecretStore:
        """The store called *kind* (``local`` or ``vault``)."""
        if kind not in self._opened:
            self._opened[kind] = self._open(kind)
        return self._opened[kind]

    def _open(self, kind: str) -> SecretStore:
        settings = self._config.credentials.secrets
        if kind == "local":
            from renewer.secretstore.local import LocalStore

            return LocalStore(settings.local.dir, settings.local.key_file)
        if kind == "vault":
            from renewer.credentials.spec import vault_token_sink
            from renewer.secretstore.vault_kv import VaultKVStore

            token = vault_token_sink(
                self._config.credentials, [sink.name for sink in self._config.tokens]
            )
            if token is None:
                raise ConfigError(
                    f"{self._config.source}: the vault store needs secrets.vault.token"
                )
            backend = self._kv_backend(self._config, settings.vault.mount, token)
            return VaultKVStore(backend, mount=settings.vault.mount, prefix=settings.vault.prefix)
        raise ConfigError(f"{self._config.source}: unknown secret store {kind!r}")
