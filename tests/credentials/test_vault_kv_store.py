"""Tests for renewer.secretstore.vault_kv: cas writes against a Vault-faithful double."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from renewer.errors import CredentialError, ServiceUnavailable
from renewer.secretstore.base import Namespace, SecretRef, merge_with, replace_with
from renewer.secretstore.vault_kv import CasMismatch, VaultKVStore
from tests.doubles.kv_memory import InMemoryKV

REF = SecretRef("slack", "team-a")


@pytest.fixture
def kv() -> InMemoryKV:
    return InMemoryKV()


@pytest.fixture
def store(kv: InMemoryKV) -> VaultKVStore:
    return VaultKVStore(kv, mount="secret", prefix="renewer")


class TestInMemoryKV:
    def test_double_enforces_cas_like_vault(self, kv: InMemoryKV) -> None:
        """cas=0 only creates; cas=N only follows version N."""
        assert kv.write("p", {"a": "1"}, cas=0) == 1
        with pytest.raises(CasMismatch):
            kv.write("p", {"a": "2"}, cas=0)
        assert kv.write("p", {"a": "2"}, cas=1) == 2


class TestVaultKVStore:
    def test_records_live_apart_by_namespace(self, store: VaultKVStore, kv: InMemoryKV) -> None:
        """secret and runtime are two KV paths under the prefix."""
        store.update(REF, Namespace.SECRET, replace_with({"client_id": "c"}))
        store.update(REF, Namespace.RUNTIME, replace_with({"expires_at": "1"}))

        assert kv.read("renewer/secret/slack/team-a") == ({"client_id": "c"}, 1)
        assert kv.read("renewer/runtime/slack/team-a") == ({"expires_at": "1"}, 1)
        assert (
            store.location(REF, Namespace.SECRET) == "vault kv secret/renewer/secret/slack/team-a"
        )

    def test_missing_record_is_none(self, store: VaultKVStore) -> None:
        """A path never written reads as nothing."""
        assert store.read(REF, Namespace.SECRET) is None

    def test_racing_writer_does_not_lose_its_update(
        self, store: VaultKVStore, kv: InMemoryKV, make_secret: Callable[[str], str]
    ) -> None:
        """Another writer lands between our read and write: we re-read and keep both changes."""
        refresh_token, access_token = make_secret("rt"), make_secret("at")
        store.update(REF, Namespace.RUNTIME, replace_with({"refresh_token": "old"}))

        def other_writer(path: str) -> None:
            data, version = kv.read(path) or ({}, 0)
            kv.write(path, {**data, "refresh_token": refresh_token}, cas=version)

        kv.before_write = other_writer
        store.update(REF, Namespace.RUNTIME, merge_with({"access_token": access_token}))

        assert store.read(REF, Namespace.RUNTIME) == {
            "refresh_token": refresh_token,
            "access_token": access_token,
        }
        assert kv.mismatches == 1

    def test_endless_contention_gives_up_as_temporary(
        self, store: VaultKVStore, kv: InMemoryKV
    ) -> None:
        """A path that changes on every attempt ends in exit 75, not a loop."""
        store.update(REF, Namespace.SECRET, replace_with({"n": "0"}))

        original_write = kv.write

        def interfere(path: str) -> None:
            data, version = kv.read(path) or ({}, 0)
            original_write(path, data, cas=version)

        def always_racing(path: str, data: dict[str, str], *, cas: int) -> int:
            kv.before_write = interfere
            return original_write(path, data, cas=cas)

        kv.write = always_racing  # type: ignore[method-assign]
        with pytest.raises(ServiceUnavailable, match="gave up after 5 check-and-set attempts"):
            store.update(REF, Namespace.SECRET, merge_with({"n": "1"}))

    def test_write_after_soft_delete_follows_the_version(
        self, store: VaultKVStore, kv: InMemoryKV
    ) -> None:
        """A deleted latest version reads as nothing, and the next write uses its version as cas."""
        store.update(REF, Namespace.SECRET, replace_with({"a": "1"}))
        kv.delete_latest("renewer/secret/slack/team-a")

        assert store.read(REF, Namespace.SECRET) is None
        store.update(REF, Namespace.SECRET, merge_with({"b": "2"}))
        assert store.read(REF, Namespace.SECRET) == {"b": "2"}

    def test_foreign_non_string_data_is_refused(self, store: VaultKVStore, kv: InMemoryKV) -> None:
        """Something else wrote a number there: a clear error, not a crash."""
        kv.raw_put("renewer/secret/slack/team-a", {"client_id": 42})

        with pytest.raises(CredentialError, match="does not hold a mapping of strings"):
            store.read(REF, Namespace.SECRET)
