"""Pytest fixtures for the local peers (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.peers.api_server import ApiPeer
from tests.peers.aws_server import MotoPeer
from tests.peers.hostile_vault import HostileVault
from tests.peers.httpbin_peer import HttpbinPeer
from tests.peers.jwt_token_server import JwtTokenPeer
from tests.peers.oauth_server import OAuthPeer
from tests.peers.pyjwt_endpoint import PyJwtEndpoint
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


def _hostile_peer() -> Iterator[HostileVault]:
    peer = HostileVault()
    try:
        yield peer
    finally:
        peer.stop()


# A scripted impostor (answers whatever a test scripts), and a second one for a
# redirect to point at: it records whatever arrives.
impostor = pytest.fixture(_hostile_peer, name="impostor")
other_host = pytest.fixture(_hostile_peer, name="other_host")


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A throwaway renewer home: config, user recipes, local store, fake clock."""
    return Workspace(tmp_path)


@pytest.fixture
def jwt_peer(workspace: Workspace) -> Iterator[JwtTokenPeer]:
    """A JWT-bearer token endpoint and API judging time by the workspace's clock."""
    peer = JwtTokenPeer(clock=workspace.clock.now)
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    """One RSA 2048 key for the session (RS256 needs 2048 bits; generating is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def moto_peer() -> Iterator[MotoPeer]:
    """moto's server (STS, IAM, S3) with authentication enforced, for the session."""
    peer = MotoPeer()
    try:
        yield peer
    finally:
        peer.stop()


def _httpbin() -> Iterator[HttpbinPeer]:
    peer = HttpbinPeer()
    try:
        yield peer
    finally:
        peer.stop()


# Two httpbins: the service, and another origin (same host, another port) that
# a request or a redirect must not carry the credential to.
httpbin = pytest.fixture(_httpbin, name="httpbin")
httpbin_other = pytest.fixture(_httpbin, name="httpbin_other")


@pytest.fixture
def pyjwt_endpoint() -> Iterator[PyJwtEndpoint]:
    """A JWT-bearer token endpoint that verifies with PyJWT (RFC 7523 claims required)."""
    peer = PyJwtEndpoint()
    try:
        yield peer
    finally:
        peer.stop()
