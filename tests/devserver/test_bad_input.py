"""Bad input: malformed bodies, oversized bodies, non-UTF-8, and a hypothesis fuzz.

Whatever arrives, the server answers a Vault-shaped reply and stays up.
"""

from __future__ import annotations

import http.client
import json
import string
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewer.devserver import DevServer


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    """A private server with a small body cap so the 413 path is cheap to reach."""
    with DevServer(root_token="fuzz-root", dev_controls=True, max_request_size=64 * 1024) as srv:
        yield srv


def send(
    srv: DevServer,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One raw request on a fresh connection; returns status, headers, body."""
    parts = urlsplit(srv.addr)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def assert_vault_shaped(status: int, headers: dict[str, str], body: bytes) -> None:
    """A Vault reply: no body (204/307/HEAD) or exactly-typed JSON with errors or data."""
    assert 200 <= status < 600
    assert headers.get("Cache-Control") == "no-store" or not body
    if not body:
        return
    assert headers["Content-Type"] == "application/json"
    document = json.loads(body)
    assert isinstance(document, dict)
    if status >= 400 and "data" not in document:
        assert isinstance(document["errors"], list)
        assert all(isinstance(message, str) for message in document["errors"])


def assert_alive(srv: DevServer) -> None:
    status, _, _ = send(srv, "GET", "/v1/sys/health")
    assert status == 200


ROOT = {"X-Vault-Token": "fuzz-root", "Content-Type": "application/json"}


class TestMalformedBodies:
    @pytest.mark.parametrize(
        "body",
        [b"[1, 2]", b'"text"', b"NaN", b'{"ttl": NaN}', b"[" * 50_000, b"{", b"\x00\x01"],
    )
    def test_not_a_json_object_is_400(self, server: DevServer, body: bytes) -> None:
        """Arrays, scalars, NaN, absurd nesting and junk → 400 ``error parsing JSON``."""
        status, _, reply = send(server, "POST", "/v1/auth/token/create", body, ROOT)

        assert status == 400
        assert json.loads(reply) == {"errors": ["error parsing JSON"]}
        assert_alive(server)

    def test_oversized_body_is_413_vault_shaped(self, server: DevServer) -> None:
        """A body over the cap → 413 with Vault's JSON error, not a plain-text page."""
        body = json.dumps({"meta": {"k": "x" * 100_000}}).encode()

        status, headers, reply = send(server, "POST", "/v1/auth/token/create", body, ROOT)

        assert status == 413
        assert headers["Content-Type"] == "application/json"
        assert json.loads(reply) == {"errors": ["error parsing JSON"]}
        assert_alive(server)

    def test_non_utf8_body_is_decoded_like_go(self, server: DevServer) -> None:
        """Invalid UTF-8 inside strings becomes U+FFFD (as Go does), not a crash."""
        body = b'{"policies": ["default"], "display_name": "bad\xff\xfename"}'

        status, _, reply = send(server, "POST", "/v1/auth/token/create", body, ROOT)

        assert status == 200
        assert json.loads(reply)["auth"]["policies"] == ["default"]

    def test_non_utf8_path_is_404_not_500(self, server: DevServer) -> None:
        """Percent-encoded invalid UTF-8 in the path is a plain unknown route."""
        status, headers, reply = send(server, "GET", "/v1/%ff%fe/x", headers=ROOT)

        assert status == 404
        assert_vault_shaped(status, headers, reply)

    def test_form_body_is_accepted(self, server: DevServer) -> None:
        """Vault also reads url-encoded forms."""
        headers = {**ROOT, "Content-Type": "application/x-www-form-urlencoded"}

        status, _, reply = send(
            server, "POST", "/v1/auth/token/lookup", b"token=fuzz-root", headers
        )

        assert status == 200
        assert json.loads(reply)["data"]["id"] == "fuzz-root"

    def test_outside_v1_is_404(self, server: DevServer) -> None:
        """Paths outside ``/v1/`` (and ``/_dev/``) are 404 ``{"errors":[]}``."""
        status, _, reply = send(server, "GET", "/ui/")

        assert (status, json.loads(reply)) == (404, {"errors": []})


_METHODS = st.sampled_from(
    ["GET", "POST", "PUT", "DELETE", "LIST", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO"]
)
_SEGMENTS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "auth",
                "token",
                "create",
                "lookup-self",
                "renew-self",
                "revoke",
                "accessors",
                "sys",
                "health",
                "policy",
                "policies",
                "acl",
                "capabilities-self",
                "secret",
                "data",
                "metadata",
                "approle",
                "role",
                "login",
                "secret-id",
                "_dev",
                "faults",
            ]
        ),
        st.text(min_size=0, max_size=8),
    ),
    max_size=6,
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_BODIES = st.one_of(
    st.binary(max_size=200),
    _JSON.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(
        st.sampled_from(
            [
                "policies",
                "ttl",
                "period",
                "token",
                "accessor",
                "data",
                "options",
                "increment",
                "num_uses",
                "type",
                "meta",
                "paths",
                "policy",
                "id",
            ]
        ),
        _JSON,
        max_size=5,
    ).map(lambda value: json.dumps(value).encode()),
)
_HEADER_TEXT = st.text(alphabet=string.printable.strip("\r\n\x0b\x0c"), max_size=30)


@dataclass(frozen=True)
class FuzzRequest:
    """One generated request."""

    method: str
    prefix: str
    segments: list[str]
    query: str
    body: bytes
    token: str
    content_type: str

    @property
    def target(self) -> str:
        """Path and query, each segment percent-encoded."""
        return self.prefix + "/".join(quote(s, safe="") for s in self.segments) + self.query


_REQUESTS = st.builds(
    FuzzRequest,
    method=_METHODS,
    prefix=st.sampled_from(["/v1/", "/v1/", "/v1/", "/_dev/", "/"]),
    segments=_SEGMENTS,
    query=st.sampled_from(["", "?list=true", "?list=maybe", "?version=2", "?x=%ff"]),
    body=_BODIES,
    token=st.one_of(st.just("fuzz-root"), _HEADER_TEXT),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/merge-patch+json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
        ]
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=_REQUESTS)
def test_fuzzed_requests_get_vault_shaped_replies(server: DevServer, request: FuzzRequest) -> None:
    """Random methods, paths, queries, headers and bodies: a Vault-shaped reply, server up."""
    headers = {"X-Vault-Token": request.token}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    try:
        status, reply_headers, reply = send(
            server, request.method, request.target, request.body, headers
        )
        if request.method != "HEAD":
            assert_vault_shaped(status, reply_headers, reply)
    finally:
        server.faults.clear()
        server.unseal()
        server.active()
        server.clear_ratelimit()
    assert_alive(server)
