"""What the environment may change in a service session: proxies and the CA bundle, no netrc.

Issue 20, item 10: the service HTTP session honoured ``REQUESTS_CA_BUNDLE``,
proxies and ``~/.netrc`` by requests' ``trust_env``, while the Vault session
takes nothing from the environment. Decided (renewer/bounded_http.py,
docs/credentials.md): proxies (``NO_PROXY`` too) and the CA bundle are read
explicitly — a devvm behind a TLS-inspecting corporate proxy reaches its
services no other way, and only the person's own environment sets them;
``~/.netrc`` is never read. Tested with renewer's real service session
against a real ``openssl s_server`` and small local HTTP servers that record
what reached them.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from renewer.primitives.http import Http
from tests.peers.serving import Served


class Recorder:
    """An HTTP server (or forward proxy) that records each request line and its headers."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._served = Served(self._app)
        self.url = self._served.url

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        uri = str(environ.get("REQUEST_URI") or environ.get("PATH_INFO"))
        headers = {k[5:]: str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        self.seen.append((uri, headers))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    def stop(self) -> None:
        self._served.stop()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    peer = Recorder()
    yield peer
    peer.stop()


proxy = pytest.fixture(lambda: (yield from _proxy()), name="proxy")


def _proxy() -> Iterator[Recorder]:
    peer = Recorder()
    yield peer
    peer.stop()


def test_netrc_credentials_are_never_sent(
    recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ~/.netrc entry for the service's host adds no Authorization header."""
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-password-for-curl\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))

    Http().session.get(f"{recorder.url}/v1/users/me?api_key=x", timeout=5)
    plain = requests.get(f"{recorder.url}/plain", timeout=5)  # what requests alone does

    assert plain.status_code == 200
    assert "AUTHORIZATION" in recorder.seen[1][1], "the control request did not use the netrc"
    assert "AUTHORIZATION" not in recorder.seen[0][1]


def test_proxies_from_the_environment_are_used_and_no_proxy_is_honoured(
    recorder: Recorder, proxy: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP(S)_PROXY routes service requests; NO_PROXY hosts go direct."""
    port = recorder.url.rsplit(":", 1)[1]
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost")
    session = Http().session

    session.get(f"http://127.0.0.1:{port}/through-the-proxy", timeout=5)
    session.get(f"http://localhost:{port}/direct", timeout=5)

    assert [uri for uri, _ in proxy.seen] == [f"http://127.0.0.1:{port}/through-the-proxy"]
    assert [uri for uri, _ in recorder.seen] == ["/direct"]


@pytest.fixture
def s_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``openssl s_server -www`` with a certificate from a CA made here; (url, CA file)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            "openssl",
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-www",
            "-quiet",
            "-cert",
            str(tmp_path / "server.pem"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"https://127.0.0.1:{port}/", tmp_path / "ca.pem"
    finally:
        server.kill()
        server.wait()


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_an_environment_ca_bundle_is_the_trust_store_of_service_sessions(
    s_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """Named in the environment, the server's CA is trusted; without it, nothing trusts it."""
    url, ca_file = s_server
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        Http().session.get(url, timeout=5)

    monkeypatch.setenv(variable, str(ca_file))

    assert Http().session.get(url, timeout=5).status_code == 200


def test_the_vault_session_takes_no_ca_bundle_from_the_environment(
    s_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vault's CA comes from the config (or $VAULT_CACERT) only."""
    from renewer.config import VaultSettings
    from renewer.core.secret import Secret
    from renewer.errors import VaultError
    from renewer.vault import RetryPolicy, VaultConnection

    url, ca_file = s_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    where = VaultSettings(addr=url.rstrip("/"), addr_source="config", ca_cert=None)

    with (
        VaultConnection(where, RetryPolicy.starting_now(5)) as connection,
        pytest.raises(VaultError, match="TLS with Vault failed"),
    ):
        connection.client(Secret("s.x" * 10)).lookup_self()
