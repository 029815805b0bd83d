"""Tests for renewer.secretstore.local: the encrypted file store."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from renewer.errors import CredentialError
from renewer.secretstore.base import Namespace, SecretRef, merge_with, replace_with
from renewer.secretstore.local import KEY_SIZE, LocalStore

NOTION = SecretRef("notion", "prod")
OTHER = SecretRef("notion", "staging")


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store", tmp_path / "config" / "store.key")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestLocalStore:
    def test_written_record_reads_back(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """What is stored is what is read."""
        token = make_secret("notion")
        store.update(NOTION, Namespace.SECRET, replace_with({"token": token}))

        assert store.read(NOTION, Namespace.SECRET) == {"token": token}

    def test_missing_record_is_none(self, store: LocalStore) -> None:
        """Nothing stored yet is not an error."""
        assert store.read(NOTION, Namespace.SECRET) is None

    def test_files_are_private(self, store: LocalStore, make_secret: Callable[[str], str]) -> None:
        """Key and blobs 0600, directories 0700."""
        store.update(NOTION, Namespace.SECRET, replace_with({"token": make_secret("t")}))

        assert mode(store.key_file) == 0o600
        assert store.key_file.stat().st_size == KEY_SIZE
        assert mode(store.path(NOTION, Namespace.SECRET)) == 0o600
        assert mode(store.directory) == 0o700
        assert mode(store.path(NOTION, Namespace.SECRET).parent) == 0o700

    def test_value_is_not_in_the_file(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """The blob is ciphertext."""
        token = make_secret("t")
        store.update(NOTION, Namespace.SECRET, replace_with({"token": token}))

        assert token.encode() not in store.path(NOTION, Namespace.SECRET).read_bytes()

    def test_each_write_uses_a_fresh_nonce(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """The same record written twice gives two different blobs."""
        record = {"token": make_secret("t")}
        store.update(NOTION, Namespace.SECRET, replace_with(record))
        first = store.path(NOTION, Namespace.SECRET).read_bytes()
        store.update(NOTION, Namespace.SECRET, replace_with(record))
        second = store.path(NOTION, Namespace.SECRET).read_bytes()

        assert first[1:13] != second[1:13]
        assert first != second

    def test_merge_keeps_other_keys(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """merge_with sets some keys and keeps the rest."""
        a, b = make_secret("a"), make_secret("b")
        store.update(NOTION, Namespace.SECRET, replace_with({"a": a}))
        store.update(NOTION, Namespace.SECRET, merge_with({"b": b}))

        assert store.read(NOTION, Namespace.SECRET) == {"a": a, "b": b}

    def test_concurrent_writers_lose_nothing(self, store: LocalStore) -> None:
        """Ten threads each adding a key: all ten keys are there."""
        store.update(NOTION, Namespace.RUNTIME, replace_with({}))
        threads = [
            threading.Thread(
                target=store.update, args=(NOTION, Namespace.RUNTIME, merge_with({f"k{n}": "v"}))
            )
            for n in range(10)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert set(store.read(NOTION, Namespace.RUNTIME) or {}) == {f"k{n}" for n in range(10)}


class TestLocalStoreRefusals:
    def write_two(self, store: LocalStore, make_secret: Callable[[str], str]) -> None:
        store.update(NOTION, Namespace.SECRET, replace_with({"token": make_secret("prod")}))
        store.update(OTHER, Namespace.SECRET, replace_with({"token": make_secret("staging")}))
        store.update(NOTION, Namespace.RUNTIME, replace_with({"access_token": make_secret("at")}))

    def refused(self, store: LocalStore, ref: SecretRef, namespace: Namespace) -> str:
        path = store.path(ref, namespace)
        before = path.read_bytes() if path.exists() else None
        with pytest.raises(CredentialError) as caught:
            store.read(ref, namespace)
        if before is not None:
            assert path.read_bytes() == before
        return str(caught.value)

    def test_blob_moved_to_another_ref_is_refused(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """The ref is the associated data: staging's blob does not open as prod."""
        self.write_two(store, make_secret)
        store.path(OTHER, Namespace.SECRET).replace(store.path(NOTION, Namespace.SECRET))

        message = self.refused(store, NOTION, Namespace.SECRET)

        assert "notion/prod (secret): cannot decrypt" in message
        assert "copied from another ref" in message

    def test_runtime_blob_in_secret_place_is_refused(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """The namespace is bound too: runtime state cannot pose as the secret."""
        self.write_two(store, make_secret)
        store.path(NOTION, Namespace.RUNTIME).replace(store.path(NOTION, Namespace.SECRET))

        assert "authentication failed" in self.refused(store, NOTION, Namespace.SECRET)

    def test_tampered_blob_is_refused(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """One flipped bit fails authentication."""
        self.write_two(store, make_secret)
        path = store.path(NOTION, Namespace.SECRET)
        blob = bytearray(path.read_bytes())
        blob[-1] ^= 1
        path.write_bytes(bytes(blob))

        assert "authentication failed" in self.refused(store, NOTION, Namespace.SECRET)

    @pytest.mark.parametrize(
        ("content", "reason"),
        [
            (b"", "empty"),
            (b"\x01short", "truncated"),
            (b"\x07" + bytes(40), "unknown blob version 7"),
        ],
    )
    def test_malformed_blob_is_refused(
        self, store: LocalStore, make_secret: Callable[[str], str], content: bytes, reason: str
    ) -> None:
        """Empty, truncated and future blobs are named as such."""
        self.write_two(store, make_secret)
        store.path(NOTION, Namespace.SECRET).write_bytes(content)

        assert reason in self.refused(store, NOTION, Namespace.SECRET)

    def test_wrong_key_is_refused(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """A different key file cannot open the blobs, and says which file to restore."""
        self.write_two(store, make_secret)
        store.key_file.write_bytes(os.urandom(KEY_SIZE))

        with pytest.raises(CredentialError) as caught:
            store.read(NOTION, Namespace.SECRET)

        assert str(store.key_file) in caught.value.hint

    def test_group_readable_key_is_refused(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """A key others can read protects nothing."""
        self.write_two(store, make_secret)
        store.key_file.chmod(0o640)

        with pytest.raises(CredentialError, match="readable by others") as caught:
            store.read(NOTION, Namespace.SECRET)

        assert caught.value.hint == f"chmod 600 {store.key_file}"

    def test_key_of_wrong_size_is_refused(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """A file that is not 32 bytes is not our key."""
        self.write_two(store, make_secret)
        store.key_file.write_bytes(b"not a key\n")

        with pytest.raises(CredentialError, match="expected 32 bytes, found 10"):
            store.read(NOTION, Namespace.SECRET)

    def test_lost_key_is_not_silently_replaced(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """With blobs present, a missing key is an error, and no new key is made."""
        self.write_two(store, make_secret)
        store.key_file.unlink()

        with pytest.raises(CredentialError, match="is missing"):
            store.update(SecretRef("openai", "x"), Namespace.SECRET, replace_with({"k": "v"}))

        assert not store.key_file.exists()
        assert not store.path(SecretRef("openai", "x"), Namespace.SECRET).exists()

    def test_symlinked_blob_is_refused(
        self, store: LocalStore, make_secret: Callable[[str], str], tmp_path: Path
    ) -> None:
        """A blob path that is a symlink is not followed."""
        self.write_two(store, make_secret)
        path = store.path(NOTION, Namespace.SECRET)
        target = tmp_path / "elsewhere"
        path.replace(target)
        path.symlink_to(target)

        assert "symbolic link" in self.refused(store, NOTION, Namespace.SECRET)

    def test_errors_never_hold_the_value(
        self, store: LocalStore, make_secret: Callable[[str], str]
    ) -> None:
        """Messages name the ref and the file, never what is inside."""
        token = make_secret("t")
        store.update(NOTION, Namespace.SECRET, replace_with({"token": token}))
        store.key_file.write_bytes(os.urandom(KEY_SIZE))

        with pytest.raises(CredentialError) as caught:
            store.read(NOTION, Namespace.SECRET)

        assert token not in str(caught.value) + caught.value.hint


class TestSecretRef:
    @pytest.mark.parametrize(
        "text", ["notion", "notion/", "/prod", "a/b/c", "../x", "a/..", "a/.b", "a b/c"]
    )
    def test_malformed_refs_are_refused(self, text: str) -> None:
        """Only service/instance of safe names, so a ref can never escape the store directory."""
        with pytest.raises(ValueError, match="expected service/instance"):
            SecretRef.parse(text)

    def test_ref_round_trips(self) -> None:
        """parse and str are inverses."""
        assert str(SecretRef.parse("google_calendar/workspace-a")) == "google_calendar/workspace-a"
