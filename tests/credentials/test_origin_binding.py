"""No secret leaves its origin: bind and creds call against two real httpbin servers.

The service is one httpbin on 127.0.0.1; "elsewhere" is a second httpbin on
the same host and another port (another origin: ports count). Every request
that reached either server is kept raw (tests/peers/httpbin_peer.py), so the
tests search what really arrived, not what renewer says it sent.

The property at the end drives random redirect chains through a recording
transport (requests' adapter interface) to state the rule for all of them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
import requests
import requests.adapters
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewer.binding import BoundSession, bind
from renewer.errors import CredentialError
from tests.cli.helpers import invoke
from tests.peers.httpbin_peer import HttpbinPeer
from tests.workspace import Workspace

Secrets = Callable[[str], str]

INJECT_EVERYWHERE = """\
header:
  X-Api-Key: "{{secret.api_key}}"
query:
  api_key: "{{secret.api_key}}"
"""


def httpbin_recipe(name: str, base_url: str, *, inject: str, extra: str = "") -> str:
    inject_block = "".join(f"  {line}\n" for line in inject.splitlines())
    return (
        f"service: {name}\nversion: 1\nprimitive: static_key\nbase_url: {base_url}\n"
        "required_secrets:\n  - {key: api_key}\n"
        f"inject:\n{inject_block}{extra}"
    )


def bound(
    workspace: Workspace,
    base_url: str,
    key: str,
    *,
    inject: str = INJECT_EVERYWHERE,
    extra: str = "",
) -> BoundSession:
    workspace.recipe("echo", httpbin_recipe("echo", base_url, inject=inject, extra=extra))
    workspace.credential("echo", "echo", "echo/main")
    workspace.set_secret("echo/main", api_key=key)
    return bind("echo", config=workspace.config(), http=workspace.http())


class TestOrigin:
    def test_the_service_gets_the_credential(
        self, workspace: Workspace, httpbin: HttpbinPeer, make_secret: Secrets
    ) -> None:
        """Header and query reach the base URL's origin."""
        key = make_secret("key")
        with bound(workspace, httpbin.url, key) as session:
            echoed = session.get("/anything/x").json()

        assert echoed["headers"]["X-Api-Key"] == key
        assert echoed["args"] == {"api_key": key}

    @pytest.mark.parametrize("how", ["other-port", "other-host", "downgrade"])
    def test_an_absolute_url_on_another_origin_is_refused(
        self,
        workspace: Workspace,
        httpbin: HttpbinPeer,
        httpbin_other: HttpbinPeer,
        make_secret: Secrets,
        how: str,
    ) -> None:
        """Another port of the same host is another origin: nothing is sent (issue 16, item 3)."""
        key = make_secret("key")
        base = {"other-port": httpbin.url, "other-host": httpbin.url, "downgrade": ""}[how]
        target = {
            "other-port": f"{httpbin_other.url}/anything",
            "other-host": httpbin.url.replace("127.0.0.1", "localhost") + "/anything",
            "downgrade": f"{httpbin.url}/anything",
        }[how]
        if how == "downgrade":
            base = httpbin.url.replace("http://", "https://")
        with (
            bound(workspace, base, key) as session,
            pytest.raises(CredentialError, match="refusing to send the credential") as caught,
        ):
            session.get(target)

        assert not httpbin.carried
        assert not httpbin_other.carried
        assert key not in caught.value.message

    def test_an_allowed_origin_gets_the_credential(
        self,
        workspace: Workspace,
        httpbin: HttpbinPeer,
        httpbin_other: HttpbinPeer,
        make_secret: Secrets,
    ) -> None:
        """An origin the recipe lists in allowed_origins is part of the service."""
        key = make_secret("key")
        extra = f"allowed_origins: [{httpbin_other.url}]\n"
        with bound(workspace, httpbin.url, key, extra=extra) as session:
            echoed = session.get(f"{httpbin_other.url}/anything").json()

        assert echoed["headers"]["X-Api-Key"] == key

    def test_a_path_whose_query_holds_a_url_is_a_path(
        self,
        workspace: Workspace,
        httpbin: HttpbinPeer,
        httpbin_other: HttpbinPeer,
        make_secret: Secrets,
    ) -> None:
        """'/anything?next=http://...' goes to the service, not to the URL in its query."""
        key = make_secret("key")
        with bound(workspace, httpbin.url, key) as session:
            echoed = session.get(f"/anything?next={httpbin_other.url}/x").json()

        assert echoed["args"]["next"] == f"{httpbin_other.url}/x"
        assert httpbin.received(key)
        assert not httpbin_other.carried

    @pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
    def test_a_cross_origin_redirect_is_followed_without_the_credential(
        self,
        workspace: Workspace,
        httpbin: HttpbinPeer,
        httpbin_other: HttpbinPeer,
        make_secret: Secrets,
        status: int,
    ) -> None:
        """Header, query key and body field stay home; the redirect itself is followed."""
        key = make_secret("key")
        inject = INJECT_EVERYWHERE + 'body:\n  api_key: "{{secret.api_key}}"\n'
        with bound(workspace, httpbin.url, key, inject=inject) as session:
            answer = session.post(
                "/redirect-to",
                params={"url": f"{httpbin_other.url}/anything/landed", "status_code": str(status)},
                json={"note": "kept"},
            )

        assert answer.status_code == 200
        assert answer.json()["url"].endswith("/anything/landed")
        assert httpbin.received(key)
        assert httpbin_other.carried, "the redirect was followed"
        assert not httpbin_other.received(key)
        if status in {307, 308}:  # the body is resent, without the injected field
            assert answer.json()["json"] == {"note": "kept"}

    def test_a_same_origin_redirect_keeps_the_credential(
        self, workspace: Workspace, httpbin: HttpbinPeer, make_secret: Secrets
    ) -> None:
        """A hop on the service's own origin is authenticated again."""
        key = make_secret("key")
        with bound(workspace, httpbin.url, key) as session:
            answer = session.get("/redirect-to", params={"url": "/anything/home"})

        assert answer.json()["headers"]["X-Api-Key"] == key
        assert answer.history and answer.history[0].status_code == 302

    def test_a_refused_connection_names_no_query_secret(
        self, workspace: Workspace, make_secret: Secrets
    ) -> None:
        """requests would say '...?api_key=<secret>'; the error renewer raises does not."""
        key = make_secret("key")
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
        with (
            bound(workspace, closed, key) as session,
            pytest.raises(requests.ConnectionError) as caught,
        ):
            session.get("/anything")

        assert key not in str(caught.value)
        assert "api_key" not in str(caught.value)
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None
        assert str(caught.value).startswith(f"{closed}/anything: could not connect")


class TestCredsCall:
    def test_creds_call_refuses_another_origin(
        self,
        workspace: Workspace,
        httpbin: HttpbinPeer,
        httpbin_other: HttpbinPeer,
        make_secret: Secrets,
    ) -> None:
        """`creds call NAME GET http://127.0.0.1:OTHER/x` sends nothing anywhere."""
        key = make_secret("key")
        bound(workspace, httpbin.url, key).close()

        ran = invoke(
            [
                "--config",
                str(workspace.config_path),
                "creds",
                "call",
                "echo",
                "GET",
                f"{httpbin_other.url}/anything",
            ],
            env=workspace.environ,
        )

        assert ran.code == 1
        assert f"is not the service's origin {httpbin.url}" in ran.stderr
        assert "allowed_origins" in ran.stderr
        assert not httpbin_other.carried

    def test_creds_call_follows_a_redirect_bare(
        self,
        workspace: Workspace,
        httpbin: HttpbinPeer,
        httpbin_other: HttpbinPeer,
        make_secret: Secrets,
    ) -> None:
        """The service's redirect elsewhere arrives there without the key."""
        key = make_secret("key")
        bound(workspace, httpbin.url, key).close()

        ran = invoke(
            [
                "--config",
                str(workspace.config_path),
                "creds",
                "call",
                "echo",
                "GET",
                f"/redirect-to?status_code=307&url={httpbin_other.url}/anything",
            ],
            env=workspace.environ,
        )

        assert ran.code == 0
        assert httpbin_other.carried
        assert not httpbin_other.received(key)


# --- the property ---------------------------------------------------------------------------

ORIGINS = [
    "http://127.0.0.1:18080",
    "http://127.0.0.1:18090",
    "http://localhost:18080",
    "https://127.0.0.1:18080",
    "https://api.example.com",
    "https://evil.example",
]
SECRET = "s3cret-value-for-the-property"


class Recorder(requests.adapters.BaseAdapter):
    """A transport that records what it was given and answers by a script of redirects."""

    def __init__(self, hops: list[tuple[int, str]]) -> None:
        super().__init__()
        self.hops = list(hops)
        self.sent: list[tuple[str, str]] = []  # (url, everything it carried)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        body = request.body or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        self.sent.append((request.url or "", f"{request.url}\n{request.headers}\n{text}"))
        response = requests.Response()
        response.request = request
        response.url = request.url or ""
        response.raw = None
        response._content = b"{}"
        if self.hops:
            status, location = self.hops.pop(0)
            response.status_code = status
            response.headers["Location"] = location
        else:
            response.status_code = 200
        return response

    def close(self) -> None:
        pass


paths = st.one_of(
    st.sampled_from(["/x", "x?next=https://evil.example/", "/a?u=http://127.0.0.1:18090/"]),
    st.sampled_from(ORIGINS).map(lambda origin: origin + "/abs"),
)
hops = st.lists(
    st.tuples(
        st.sampled_from([301, 302, 303, 307, 308]),
        st.one_of(st.sampled_from(ORIGINS).map(lambda o: o + "/hop"), st.just("/relative")),
    ),
    max_size=4,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    case=st.fixed_dictionaries(
        {
            "base": st.sampled_from(ORIGINS),
            "allowed": st.lists(st.sampled_from(ORIGINS), max_size=2),
            "path": paths,
            "chain": hops,
            "method": st.sampled_from(["GET", "POST"]),
        }
    )
)
def test_no_secret_leaves_its_origin(workspace: Workspace, case: dict[str, Any]) -> None:
    """Whatever the caller asks and the servers answer, the secret reaches only allowed origins."""
    from renewer import redact
    from renewer.core.domains import host_of
    from renewer.recipes.sites import site_of

    base, allowed, path = case["base"], case["allowed"], case["path"]
    chain, method = case["chain"], case["method"]

    redact.register(SECRET)
    site = site_of(host_of(base) or "")
    allowed = [origin for origin in allowed if site_of(host_of(origin) or "") == site]
    inject = INJECT_EVERYWHERE + 'body:\n  api_key: "{{secret.api_key}}"\n'
    extra = f"allowed_origins: [{', '.join(allowed)}]\n" if allowed else ""
    workspace.credentials.clear()
    session = bound(workspace, base, SECRET, inject=inject, extra=extra)
    recorder = Recorder(chain)
    for origin in ORIGINS:
        session.mount(origin + "/", recorder)
    permitted = {base, *allowed}
    try:
        session.request(method, path, json={"n": 1})
    except CredentialError:
        assert path.startswith(("http://", "https://"))
        assert not recorder.sent, "refused before anything was sent"
        return
    for url, carried in recorder.sent:
        origin = next(o for o in ORIGINS if url.startswith(o + "/"))
        if origin not in permitted:
            assert SECRET not in carried, f"the secret reached {origin}"
