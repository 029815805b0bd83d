"""The embedded default store: one AES-256-GCM encrypted file per ref and namespace.

Layout (product.md §3, seed 004 §8)::

    <dir>/                                 0700
      secret/<service>/<instance>.enc      0600, what `renewer creds set` stored
      runtime/<service>/<instance>.enc     0600, what refreshes maintain
      .lock                                serialises writers of this store
    <key_file>                             0600, 32 random bytes

Blob: a version byte (1), a 12-byte random nonce (fresh for every write:
GCM must never see a nonce twice under one key), then the AES-256-GCM
ciphertext of a JSON object. The associated data is the namespace and the
ref, so a blob copied to another ref's file, or from ``runtime`` to
``secret``, fails authentication instead of decrypting as the wrong thing.

The key file is made on the first write, and only while the store holds no
blob: a missing key with blobs present means the key was lost, and a new
one would silently orphan them. A key file readable by group or others, or
owned by someone else, is refused. Every failure is a ``CredentialError``
naming the ref and the file, never the value.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from renewer.credentials.refresh_lock import held
from renewer.errors import CredentialError
from renewer.files import (
    UnsafeFile,
    ensure_private_dir,
    ensure_trusted_dir,
    read_small_file,
    require_trusted,
    write_atomic,
)
from renewer.secretstore.base import Change, Namespace, Record, SecretRef

BLOB_VERSION = 1
NONCE_SIZE = 12
KEY_SIZE = 32
MAX_BLOB_BYTES = 1 << 20
_AD_PREFIX = b"renewer-store/v1\0"
_SUFFIX = ".enc"


class BlobError(ValueError):
    """A blob cannot be opened with this key for this ref (the reason is safe to show)."""


def associated_data(ref: SecretRef, namespace: Namespace) -> bytes:
    """What binds a blob to its place: the namespace and the ref."""
    return _AD_PREFIX + f"{namespace.value}\0{ref}".encode()


def seal(key: bytes, record: Record, *, ad: bytes, nonce: bytes | None = None) -> bytes:
    """Encrypt *record* into a blob; a fresh random nonce unless one is given (tests)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
    plaintext = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    return bytes([BLOB_VERSION]) + nonce + AESGCM(key).encrypt(nonce, plaintext, ad)


def open_blob(key: bytes, blob: bytes, *, ad: bytes) -> Record:
    """Decrypt and check a blob; raise :class:`BlobError` with a reason."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not blob:
        raise BlobError("the file is empty")
    if blob[0] != BLOB_VERSION:
        raise BlobError(f"unknown blob version {blob[0]} (this renewer writes {BLOB_VERSION})")
    if len(blob) < 1 + NONCE_SIZE + 16:
        raise BlobError("the file is truncated")
    nonce, ciphertext = blob[1 : 1 + NONCE_SIZE], blob[1 + NONCE_SIZE :]
    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, ad)
    except InvalidTag:
        raise BlobError(
            "authentication failed: a different key file, a damaged file, "
            "or a file copied from another ref"
        ) from None
    try:
        record = json.loads(plaintext)
    except ValueError:
        raise BlobError("the decrypted content is not a JSON object") from None
    if not isinstance(record, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in record.items()
    ):
        raise BlobError("the decrypted content is not a mapping of strings")
    return record


class LocalStore:
    """Encrypted files under *directory*, with the key in *key_file*."""

    kind = "local"

    def __init__(self, directory: Path, key_file: Path, *, lock_timeout: float = 30.0) -> None:
        self.directory = directory
        self.key_file = key_file
        self.lock_timeout = lock_timeout

    def path(self, ref: SecretRef, namespace: Namespace) -> Path:
        return self.directory / namespace.value / ref.service / f"{ref.instance}{_SUFFIX}"

    def location(self, ref: SecretRef, namespace: Namespace) -> str:
        return str(self.path(ref, namespace))

    def read(self, ref: SecretRef, namespace: Namespace) -> Record | None:
        path = self.path(ref, namespace)
        require_trusted(path, what="secret store entry")
        try:
            blob = read_small_file(path, max_bytes=MAX_BLOB_BYTES).content
        except FileNotFoundError:
            return None
        except (UnsafeFile, OSError) as exc:
            raise CredentialError(
                f"{ref} ({namespace.value}): cannot read {path}: {exc.strerror or exc}"
            ) from None
        key = self._load_key()
        try:
            return open_blob(key, blob, ad=associated_data(ref, namespace))
        except BlobError as exc:
            raise CredentialError(
                f"{ref} ({namespace.value}): cannot decrypt {path}: {exc}",
                hint=f"if the key file {self.key_file} was replaced, restore it; otherwise set "
                "the secret again with `renewer creds set NAME` (the file was not changed)",
            ) from None

    def update(self, ref: SecretRef, namespace: Namespace, change: Change) -> Record:
        ensure_trusted_dir(self.directory, what="secret store")
        with held(
            self.directory / ".lock", timeout=self.lock_timeout, what=f"store {self.directory}"
        ):
            record = change(self.read(ref, namespace))
            key = self._load_key(create=True)
            blob = seal(key, record, ad=associated_data(ref, namespace))
            path = self.path(ref, namespace)
            ensure_private_dir(path.parent.parent)
            ensure_private_dir(path.parent)
            try:
                write_atomic(path, blob)
            except OSError as exc:
                raise CredentialError(
                    f"{ref} ({namespace.value}): cannot write {path}: {exc.strerror or exc}"
                ) from None
            return record

    def _load_key(self, *, create: bool = False) -> bytes:
        require_trusted(self.key_file, what="store key")
        try:
            facts = read_small_file(self.key_file, max_bytes=4096)
        except FileNotFoundError:
            if create and not self._has_blobs():
                return self._create_key()
            raise CredentialError(
                f"the store key {self.key_file} is missing, so the secrets under "
                f"{self.directory} cannot be decrypted",
                hint="restore the key file from a backup, or remove the store directory and "
                "set every secret again with `renewer creds set NAME`",
            ) from None
        except (UnsafeFile, OSError) as exc:
            raise CredentialError(
                f"cannot read the store key {self.key_file}: {exc.strerror or exc}"
            ) from None
        if facts.mode & 0o077:
            raise CredentialError(
                f"the store key {self.key_file} is readable by others (mode {facts.mode:04o}); "
                "refusing to use it",
                hint=f"chmod 600 {self.key_file}",
            )
        if facts.uid != os.getuid():
            raise CredentialError(
                f"the store key {self.key_file} belongs to uid {facts.uid}, not to you",
                hint="check who wrote it; then chown it or point secrets.local.key_file elsewhere",
            )
        if len(facts.content) != KEY_SIZE:
            raise CredentialError(
                f"{self.key_file} is not a renewer store key "
                f"(expected {KEY_SIZE} bytes, found {len(facts.content)})"
            )
        return facts.content

    def _create_key(self) -> bytes:
        key = os.urandom(KEY_SIZE)
        ensure_trusted_dir(self.key_file.parent, what="store key directory")
        write_atomic(self.key_file, key)
        return key

    def _has_blobs(self) -> bool:
        return any(self.directory.glob(f"*/*/*{_SUFFIX}"))
