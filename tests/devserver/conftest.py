"""Fixtures of the differential tests: the dev server and OpenBao side by side."""

from __future__ import annotations

import pytest

from tests.vaultpeer import VaultPeer, ensure_approle, ensure_pki


@pytest.fixture(scope="module")
def both(devserver_peer: VaultPeer, openbao_peer: VaultPeer) -> tuple[VaultPeer, VaultPeer]:
    """The two servers, with the mounts the dev server has from the start."""
    for peer in (devserver_peer, openbao_peer):
        ensure_approle(peer)
        ensure_pki(peer)
    return devserver_peer, openbao_peer
