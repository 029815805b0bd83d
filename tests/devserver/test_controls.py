"""The dev server's own test controls: clock, faults, counters, modes, ``/_dev/`` API.

These are features real Vault lacks, so they run against our server only.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import hvac
import hvac.exceptions
import pytest
import requests

from renewer.devserver import DevServer
from renewer.devserver.clock import Clock
from renewer.devserver.controls_client import DevControls, DevControlsError


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    """A private dev server with controls on, shared by this module."""
    with DevServer(root_token="ctl-root", dev_controls=True) as srv:
        yield srv


@pytest.fixture
def srv(server: DevServer) -> Iterator[DevServer]:
    """The module's server with faults, modes and counters reset."""
    server.faults.clear()
    server.reset_counters()
    yield server
    server.faults.clear()
    server.unseal()


@pytest.fixture
def controls(srv: DevServer) -> Iterator[DevControls]:
    """The HTTP client of ``/_dev/`` for *srv*."""
    client = DevControls(srv.addr)
    yield client
    client.close()


def root(srv: DevServer) -> hvac.Client:
    return hvac.Client(url=srv.addr, token=srv.root_token, timeout=5)


class TestClock:
    def test_advancing_the_clock_expires_tokens(self, srv: DevServer) -> None:
        """A 1h token is gone after advancing 3601 s, without sleeping."""
        token = root(srv).auth.token.create(policies=["default"], ttl="1h")["auth"]["client_token"]

        srv.clock.advance(3601)

        with pytest.raises(hvac.exceptions.Forbidden):
            hvac.Client(url=srv.addr, token=token, timeout=5).auth.token.lookup_self()

    def test_expiry_of_a_parent_revokes_its_children(self, srv: DevServer) -> None:
        """Expiry revokes the subtree, like Vault's expiration manager."""
        parent = root(srv).auth.token.create(policies=["default"], ttl="1h")["auth"]["client_token"]
        srv.state.policies.put(
            "child-maker", 'path "auth/token/create" { capabilities = ["update"] }'
        )
        maker = root(srv).auth.token.create(policies=["child-maker"], ttl="1h")["auth"]
        child = hvac.Client(url=srv.addr, token=maker["client_token"], timeout=5).auth.token.create(
            ttl="10h"
        )["auth"]
        assert parent

        srv.clock.advance(3601)

        assert root(srv).auth.token.list_accessors()["data"]["keys"].count(child["accessor"]) == 0

    def test_clock_never_goes_back(self, srv: DevServer) -> None:
        """Negative advances are refused."""
        with pytest.raises(ValueError, match="only moves forward"):
            srv.clock.advance(-1)

    def test_http_clock_advance(self, srv: DevServer, controls: DevControls) -> None:
        """``POST /_dev/clock/advance`` moves the same clock."""
        before = srv.clock.now()

        now = controls.advance(100)

        assert now >= before + 100
        assert controls.now() >= now


class TestFaults:
    def test_status_fault_for_next_n_requests(self, srv: DevServer) -> None:
        """``status`` 503 twice on renew-self, then normal service."""
        srv.faults.add(path="auth/token/renew-self", kind="status", status=503, count=2)
        token = root(srv).auth.token.create(policies=["default"])["auth"]["client_token"]
        client = hvac.Client(url=srv.addr, token=token, timeout=5)

        for _ in range(2):
            with pytest.raises(hvac.exceptions.VaultDown):
                client.auth.token.renew_self()
        assert client.auth.token.renew_self()["auth"]["client_token"] == token

    def test_status_fault_with_retry_after(self, srv: DevServer) -> None:
        """A 429 ``status`` fault may carry ``Retry-After``."""
        srv.faults.add(kind="status", status=429, retry_after=3, count=1)

        response = requests.get(f"{srv.addr}/v1/sys/health", timeout=5)

        assert response.status_code == 429
        assert response.headers["Retry-After"] == "3"
        assert response.headers["Content-Type"] == "application/json"

    def test_glob_and_method_narrow_a_fault(self, srv: DevServer) -> None:
        """A fault only catches matching paths (glob) and methods."""
        srv.faults.add(path="secret/*", method="POST", kind="status", status=500)
        client = root(srv)

        assert client.auth.token.lookup_self()["data"]["id"] == srv.root_token
        with pytest.raises(hvac.exceptions.InternalServerError):
            client.secrets.kv.v2.create_or_update_secret(path="f/x", secret={"a": 1})
        assert requests.get(f"{srv.addr}/v1/secret/data/f/x", timeout=5).status_code == 403

    def test_sealed_and_ratelimit_faults(self, srv: DevServer) -> None:
        """``sealed`` → hvac VaultDown; ``ratelimit`` → hvac RateLimitExceeded."""
        srv.faults.add(kind="sealed", count=1)
        srv.faults.add(kind="ratelimit", retry_after=2, count=1)
        client = root(srv)

        with pytest.raises(hvac.exceptions.VaultDown):
            client.auth.token.lookup_self()
        with pytest.raises(hvac.exceptions.RateLimitExceeded):
            client.auth.token.lookup_self()

    def test_skip_lets_the_first_matches_through(self, srv: DevServer) -> None:
        """``skip=1``: the first lookup-self is served, the second is faulted, the third served."""
        srv.faults.add(path="auth/token/lookup-self", kind="status", status=500, skip=1, count=1)
        client = root(srv)

        assert client.auth.token.lookup_self()["data"]["id"] == srv.root_token
        with pytest.raises(hvac.exceptions.InternalServerError):
            client.auth.token.lookup_self()
        assert client.auth.token.lookup_self()["data"]["id"] == srv.root_token

    def test_authnull_is_a_vault_shaped_200_without_auth_or_data(self, srv: DevServer) -> None:
        """``authnull``: what a broken proxy answers to create-orphan or renew-self."""
        srv.faults.add(path="auth/token/create-orphan", kind="authnull", count=1)

        response = requests.post(
            f"{srv.addr}/v1/auth/token/create-orphan",
            headers={"X-Vault-Token": srv.root_token},
            json={},
            timeout=5,
        )

        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert (response.json()["auth"], response.json()["data"]) == (None, None)

    def test_latency_fault_delays_but_serves(self, srv: DevServer) -> None:
        """``latency`` adds its delay and then answers normally."""
        srv.faults.add(kind="latency", delay=0.3, count=1)

        started = time.monotonic()
        data = root(srv).auth.token.lookup_self()["data"]

        assert time.monotonic() - started >= 0.3
        assert data["id"] == srv.root_token

    def test_reset_fault_drops_the_connection(self, srv: DevServer) -> None:
        """``reset``: the client sees a connection error, and the server stays up."""
        srv.faults.add(kind="reset", count=1)

        with pytest.raises(requests.ConnectionError):
            requests.get(f"{srv.addr}/v1/sys/health", timeout=5)
        assert requests.get(f"{srv.addr}/v1/sys/health", timeout=5).status_code == 200

    def test_truncate_fault_cuts_the_body(self, srv: DevServer) -> None:
        """``truncate``: a body shorter than its Content-Length → a requests error."""
        srv.faults.add(kind="truncate", count=1)

        with pytest.raises(requests.RequestException):
            root(srv).auth.token.lookup_self()
        assert root(srv).auth.token.lookup_self()["data"]["id"] == srv.root_token

    def test_nonjson_fault_returns_html(self, srv: DevServer) -> None:
        """``nonjson`` with 502: hvac raises BadGateway without parsed errors."""
        srv.faults.add(kind="nonjson", status=502, count=1)

        with pytest.raises(hvac.exceptions.BadGateway) as info:
            root(srv).auth.token.lookup_self()

        assert info.value.errors is None

    def test_nonjson_success_is_not_a_dict_for_hvac(self, srv: DevServer) -> None:
        """``nonjson`` with 200: hvac cannot decode it and hands back the raw Response."""
        srv.faults.add(kind="nonjson", count=1)

        result = root(srv).auth.token.lookup_self()

        assert isinstance(result, requests.Response)
        assert result.headers["Content-Type"] == "text/html"

    def test_http_fault_api(self, srv: DevServer, controls: DevControls) -> None:
        """``POST/GET/DELETE /_dev/faults`` arm, show and clear faults."""
        fault_id = controls.add_fault("status", path="auth/token/lookup-self", status=502)

        listed = controls.faults()
        with pytest.raises(hvac.exceptions.BadGateway):
            root(srv).auth.token.lookup_self()
        controls.clear_faults()

        assert [f["id"] for f in listed] == [fault_id]
        assert root(srv).auth.token.lookup_self()["data"]["id"] == srv.root_token

    def test_bad_fault_request_is_400(self, controls: DevControls) -> None:
        """An unknown kind or field is refused."""
        with pytest.raises(DevControlsError, match="400"):
            controls.add_fault("explode")


class TestCountersAndModes:
    def test_counters_count_per_path_and_method(self, srv: DevServer) -> None:
        """Each request under ``/v1/`` counts once, by path (and by method)."""
        client = root(srv)
        for _ in range(3):
            client.auth.token.lookup_self()
        client.sys.read_health_status(method="GET")

        assert srv.counters()["auth/token/lookup-self"] == 3
        assert srv.counters(with_method=True)["GET auth/token/lookup-self"] == 3
        srv.reset_counters()
        assert srv.counters() == {}

    def test_http_counters(self, srv: DevServer, controls: DevControls) -> None:
        """``GET/DELETE /_dev/counters`` read and reset; ``/_dev/`` is never counted."""
        root(srv).auth.token.lookup_self()

        assert controls.counters() == {"auth/token/lookup-self": 1}
        controls.reset_counters()
        assert controls.counters() == {}

    def test_http_seal_and_unseal(self, srv: DevServer, controls: DevControls) -> None:
        """``POST /_dev/seal`` and ``/_dev/unseal``."""
        controls.seal()
        sealed = requests.get(f"{srv.addr}/v1/sys/seal-status", timeout=5).json()["sealed"]
        controls.unseal()

        assert sealed is True
        assert root(srv).sys.is_sealed() is False

    def test_tokens_by_display_name(self) -> None:
        """Live tokens by display name, in process and over HTTP, never with their ids.

        A TTL is whole seconds to expiry from the rounded now (Vault's
        ``leaseEntry.ttl()``), so two reads moments apart may differ by a second;
        on a pinned clock they are read at the same instant and must be equal.
        """
        pinned = Clock(source=lambda: 1_767_225_600.4)
        with (
            DevServer(root_token="ctl-root", dev_controls=True, clock=pinned) as srv,
            contextlib.closing(DevControls(srv.addr)) as controls,
        ):
            reply = root(srv).auth.token.create(policies=["default"], display_name="devvm-wizard")

            local = srv.tokens_by_display_name("token-devvm-wizard")
            remote = controls.tokens("token-devvm-wizard")
            counts = (srv.live_token_count(), controls.live_token_count())

        assert reply["auth"]["accessor"] in [t["accessor"] for t in local]
        assert local == remote
        assert [t["ttl"] for t in local] == [32 * 86400]  # the token mount's default
        assert all("id" not in t for t in local)
        assert counts == (2, 2)  # the root token and this one

    def test_dev_api_is_absent_without_the_flag(self) -> None:
        """Without ``dev_controls`` ``/_dev/`` is a 404 like any unknown path."""
        with DevServer(root_token="plain") as plain:
            response = requests.get(f"{plain.addr}/_dev/clock", timeout=5)
            assert DevControls(plain.addr).available() is False

        assert response.status_code == 404
        assert response.json() == {"errors": []}


class TestServerLifecycle:
    def test_refuses_non_loopback_hosts(self) -> None:
        """A dev server with a root token listens on loopback unless told otherwise."""
        with pytest.raises(ValueError, match="non-loopback"):
            DevServer(host="0.0.0.0")

    def test_stop_releases_the_port(self) -> None:
        """After the ``with`` block the port no longer answers."""
        with DevServer() as srv:
            addr = srv.addr
            assert requests.get(f"{addr}/v1/sys/health", timeout=5).status_code == 200

        with pytest.raises(requests.ConnectionError):
            requests.get(f"{addr}/v1/sys/health", timeout=2)

    def test_keep_alive_and_nodelay(self, srv: DevServer) -> None:
        """One connection serves many requests quickly (no Nagle stalls)."""
        session = requests.Session()
        started = time.monotonic()
        for _ in range(50):
            session.get(
                f"{srv.addr}/v1/auth/token/lookup-self",
                headers={"X-Vault-Token": srv.root_token},
                timeout=5,
            )
        elapsed = time.monotonic() - started

        assert elapsed < 50 * 0.04  # 40 ms each would mean delayed ACKs
