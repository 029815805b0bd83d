"""TEST DOUBLE: an in-memory KV v2 mount that enforces check-and-set exactly like Vault.

Implements ``renewer.secretstore.vault_kv.KVBackend`` for tests of the store's
cas retry logic until the dev server's KV v2 lands. Vault's rules kept here:

* every write creates a new version, numbered from 1;
* ``cas=0`` succeeds only when the path has no version at all;
* ``cas=N`` succeeds only when the latest version is N (deleted or not);
* a soft-deleted latest version reads as empty data with its version number.

``before_write`` lets a test run another writer between a store's read and
its write, which is how a lost update would happen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from renewer.secretstore.vault_kv import CasMismatch


@dataclass
class _Versions:
    items: list[dict[str, str] | None] = field(default_factory=list)  # None = deleted


class InMemoryKV:
    """A KV v2 mount in a dict. Not a Vault: no auth, no metadata, no destroy."""

    def __init__(self) -> None:
        self._paths: dict[str, _Versions] = {}
        self.before_write: Callable[[str], None] | None = None
        self.writes = 0
        self.mismatches = 0

    def read(self, path: str) -> tuple[dict[str, str], int] | None:
        versions = self._paths.get(path)
        if versions is None or not versions.items:
            return None
        latest = versions.items[-1]
        return (dict(latest) if latest is not None else {}), len(versions.items)

    def write(self, path: str, data: dict[str, str], *, cas: int) -> int:
        hook, self.before_write = self.before_write, None
        if hook is not None:
            hook(path)
        versions = self._paths.setdefault(path, _Versions())
        if cas != len(versions.items):
            self.mismatches += 1
            raise CasMismatch(f"check-and-set parameter did not match the current version ({path})")
        versions.items.append(dict(data))
        self.writes += 1
        return len(versions.items)

    def delete_latest(self, path: str) -> None:
        """``vault kv delete``: soft-delete the latest version."""
        self._paths[path].items[-1] = None

    def raw_put(self, path: str, data: dict[str, object]) -> None:
        """Write anything (as another tool might), bypassing cas."""
        self._paths.setdefault(path, _Versions()).items.append(data)  # type: ignore[arg-type]
