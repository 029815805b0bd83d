"""Tests for the local store's blob format (pure: bytes in, bytes out)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.secretstore.base import Namespace, SecretRef
from renewer.secretstore.local import BlobError, associated_data, open_blob, seal

KEY = bytes(range(32))
AD = associated_data(SecretRef("notion", "prod"), Namespace.SECRET)


class TestBlob:
    def test_blob_layout_is_version_nonce_ciphertext(self) -> None:
        """1 version byte, 12 nonce bytes, then ciphertext with its 16-byte tag."""
        blob = seal(KEY, {"a": "b"}, ad=AD, nonce=b"n" * 12)

        assert blob[0] == 1
        assert blob[1:13] == b"n" * 12
        assert len(blob) == 13 + len(b'{"a":"b"}') + 16

    def test_other_associated_data_fails(self) -> None:
        """The ref and namespace are bound: another place cannot open it."""
        blob = seal(KEY, {"a": "b"}, ad=AD)
        elsewhere = associated_data(SecretRef("notion", "prod"), Namespace.RUNTIME)

        with pytest.raises(BlobError, match="authentication failed"):
            open_blob(KEY, blob, ad=elsewhere)


records = st.dictionaries(st.text(max_size=8), st.text(max_size=16), max_size=4)


@given(record=records)
def test_seal_then_open_is_identity(record: dict[str, str]) -> None:
    """Any record of strings comes back as it went in."""
    assert open_blob(KEY, seal(KEY, record, ad=AD), ad=AD) == record


@given(blob=st.binary(max_size=80))
def test_arbitrary_bytes_never_open(blob: bytes) -> None:
    """Random bytes are refused with a reason, never decoded into a record."""
    with pytest.raises(BlobError):
        open_blob(KEY, blob, ad=AD)
