"""Pytest fixtures for the local peers (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace


@pytest.fixture
def oauth_peer() -> Iterator[OAuthPeer]:
    """A fresh OAuth2 authorization server on 127.0.0.1."""
    peer = OAuthPeer()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def api_peer(oauth_peer: OAuthPeer) -> Iterator[ApiPeer]:
    """A local API accepting static keys and the OAuth peer's access tokens."""
    peer = ApiPeer(validator=oauth_peer.is_valid_access_token)
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A throwaway renewer home: config, user recipes, local store, fake clock."""
    return Workspace(tmp_path)
