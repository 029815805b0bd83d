"""The Vault every integration test talks to: our dev server, or a real one.

Selection, first match wins:

1. ``RENEWER_TEST_VAULT_ADDR`` + ``RENEWER_TEST_VAULT_TOKEN``: that server
   (dev controls used if it happens to be a dev server with ``/_dev/`` on);
2. ``vault`` or ``bao`` on PATH (unless ``RENEWER_TEST_PEER=devserver``):
   ``server -dev`` on a free loopback port, killed at the end of the session;
3. otherwise the in-process ``DevServer`` with dev controls.

Fixtures: ``vault_peer`` (session) and ``vault`` (function: the same peer,
with faults, modes and counters reset around each test on a dev server).
Tests needing ``/_dev/`` call ``vault.require_dev()`` and skip on a real Vault.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hvac
import pytest
import requests

from renewer.devserver import DevServer
from renewer.devserver.controls_client import DevControls


@dataclass
class VaultPeer:
    """A running Vault-compatible server and how to talk to it."""

    addr: str
    root_token: str
    is_dev: bool
    controls: DevControls | None
    server: DevServer | None = None
    kind: str = "devserver"
    _session: requests.Session = field(default_factory=requests.Session, repr=False)

    def client(self, token: str | None = None) -> hvac.Client:
        """An hvac client with url and token always explicit (None → root token).

        Passing both keeps hvac away from ``VAULT_ADDR``, ``VAULT_TOKEN`` and
        ``~/.vault-token``. ``token=""`` gives an anonymous client.
        """
        return hvac.Client(
            url=self.addr, token=self.root_token if token is None else token, timeout=10
        )

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        """A raw HTTP request to ``<addr>/v1/<path>`` (None → root token, "" → none)."""
        headers = dict(kwargs.pop("headers", None) or {})
        token = self.root_token if token is None else token
        if token:
            headers.setdefault("X-Vault-Token", token)
        return self._session.request(
            method, f"{self.addr}/v1/{path}", headers=headers, timeout=10, **kwargs
        )

    def require_dev(self) -> DevControls:
        """Skip the test unless the dev controls are available; return them."""
        if not self.is_dev or self.controls is None:
            pytest.skip("needs the dev server's /_dev/ controls (not on a real Vault)")
        return self.controls

    def advance(self, seconds: float) -> None:
        """Move virtual time forward (dev server only; skips otherwise)."""
        self.require_dev().advance(seconds)


def unique(prefix: str) -> str:
    """A name no other test uses on the shared server."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


PKI_MOUNT = "pki"


def ensure_pki(peer: VaultPeer) -> str:
    """The PKI mount with a CA: the dev server has one; a real Vault gets one once."""
    client = peer.client()
    if f"{PKI_MOUNT}/" in client.sys.list_mounted_secrets_engines()["data"]:
        return PKI_MOUNT
    client.sys.enable_secrets_engine("pki", path=PKI_MOUNT)
    client.secrets.pki.generate_root(
        "internal",
        "renewer test root CA",
        extra_params={"ttl": "768h", "key_type": "ec", "key_bits": 256},
        mount_point=PKI_MOUNT,
    )
    return PKI_MOUNT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(addr: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vault server -dev exited with {process.returncode}")
        try:
            if requests.get(f"{addr}/v1/sys/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("vault server -dev did not become healthy within 30 s")


@pytest.fixture(scope="session")
def vault_peer() -> Iterator[VaultPeer]:
    """The session's server (see the module docstring for the selection)."""
    addr = os.environ.get("RENEWER_TEST_VAULT_ADDR")
    token = os.environ.get("RENEWER_TEST_VAULT_TOKEN")
    binary = shutil.which("vault") or shutil.which("bao")
    if addr and token:
        controls = DevControls(addr)
        is_dev = controls.available()
        yield VaultPeer(addr.rstrip("/"), token, is_dev, controls if is_dev else None, kind="env")
    elif binary and os.environ.get("RENEWER_TEST_PEER") != "devserver":
        yield from _real_vault(binary)
    else:
        with DevServer(root_token=secrets.token_hex(8), dev_controls=True) as server:
            controls = DevControls(server.addr)
            yield VaultPeer(server.addr, server.root_token, True, controls, server=server)
            controls.close()


def _real_vault(binary: str) -> Iterator[VaultPeer]:
    import tempfile

    scratch = tempfile.mkdtemp(prefix="bao-home-")
    port = _free_port()
    root = secrets.token_hex(12)
    addr = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            binary,
            "server",
            "-dev",
            f"-dev-root-token-id={root}",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": scratch},
    )
    try:
        _wait_healthy(addr, process)
        yield VaultPeer(addr, root, False, None, kind=os.path.basename(binary))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _reset(peer: VaultPeer) -> None:
    if peer.server is not None:
        peer.server.faults.clear()
        peer.server.unseal()
        peer.server.active()
        peer.server.clear_ratelimit()
        peer.server.reset_counters()
    elif peer.controls is not None:
        peer.controls.clear_faults()
        peer.controls.unseal()
        peer.controls.active()
        peer.controls.clear_ratelimit()
        peer.controls.reset_counters()


@pytest.fixture
def vault(vault_peer: VaultPeer) -> Iterator[VaultPeer]:
    """The session's server, with dev-server faults, modes and counters reset."""
    _reset(vault_peer)
    yield vault_peer
    _reset(vault_peer)
