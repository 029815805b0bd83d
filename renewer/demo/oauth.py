"""The demo's OAuth 2.0 server: Authlib's own authorization server, on a loopback port.

``renewer demo`` needs a service whose credential expires and is refreshed.
Nothing here decides OAuth: Authlib's framework-neutral
:class:`~authlib.oauth2.rfc6749.AuthorizationServer` with its
``ClientCredentialsGrant`` (RFC 6749 §4.4) and RFC 6750 bearer tokens does
it, exactly as it does in Authlib's Flask and Django integrations; this
module only carries HTTP requests in and out of it (stdlib
``http.server``, one thread per request). A client authenticates the one
way it was registered with (``client_secret_basic`` by default).

It also serves the API the credential is for: ``GET /v1/me`` answers 200
for a live access token it issued (``Authorization: Bearer``), 401 otherwise.
Tokens live in memory for ``expires_in`` seconds of the wall clock.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, grants
from authlib.oauth2.rfc6749.requests import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenGenerator

TOKEN_PATH = "/oauth/token"
API_PATH = "/v1/me"
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Client(ClientMixin):  # type: ignore[misc]
    """A confidential client allowed the client-credentials grant only.

    Like a registered client (RFC 7591 ``token_endpoint_auth_method``), it
    authenticates in one way only: HTTP Basic unless registered otherwise.
    """

    client_id: str
    client_secret: str
    auth_method: str = "client_secret_basic"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return ""

    def get_allowed_scope(self, scope: str | None) -> str:
        return "read" if not scope else " ".join(s for s in scope.split() if s == "read")

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class _ClientCredentials(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, form: list[tuple[str, str]]) -> None:
        self._form = form

    @property
    def data(self) -> dict[str, str]:
        return dict(self._form)

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in self._form:
            values[key].append(value)
        return values


class _Request(OAuth2Request):  # type: ignore[misc]
    """A POSTed form, as Authlib's framework integrations present one."""

    def __init__(self, uri: str, headers: dict[str, str], form: list[tuple[str, str]]) -> None:
        super().__init__("POST", uri, headers=headers)
        self._form = form
        self.payload = _Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return dict(self._form)

    @property
    def args(self) -> dict[str, str]:
        return {}


@dataclass
class DemoOAuth:
    """The server's state: clients, issued tokens; :meth:`serve` runs it."""

    expires_in: int = 3600
    clients: dict[str, Client] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry
    issued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_client(self) -> Client:
        client = Client(f"demo-{secrets.token_hex(4)}", secrets.token_urlsafe(24))
        self.clients[client.client_id] = client
        return client

    def accepts(self, token: str) -> bool:
        with self._lock:
            expiry = self.tokens.get(token)
        return expiry is not None and expiry > time.time()

    def authorization_server(self) -> AuthorizationServer:
        demo = self

        class Server(AuthorizationServer):  # type: ignore[misc]
            def query_client(self, client_id: str) -> Client | None:
                return demo.clients.get(client_id)

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                with demo._lock:
                    demo.tokens[token["access_token"]] = time.time() + int(token["expires_in"])
                    demo.issued += 1

            def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
                return request

            def handle_response(
                self, status: int, body: Any, headers: list[tuple[str, str]]
            ) -> tuple[int, bytes, list[tuple[str, str]]]:
                text = body if isinstance(body, str) else json.dumps(body)
                return status, text.encode(), list(headers)

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                """No signals to send: nothing listens in the demo."""

        server = Server(scopes_supported=["read"])
        server.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: secrets.token_urlsafe(32),
                expires_generator=lambda client, grant_type: self.expires_in,
            ),
        )
        server.register_grant(_ClientCredentials)
        return server

    def serve(self) -> ServedOAuth:
        return ServedOAuth(self)


class ServedOAuth:
    """:class:`DemoOAuth` on 127.0.0.1 and a free port until :meth:`stop`."""

    def __init__(self, demo: DemoOAuth) -> None:
        self.demo = demo
        server = demo.authorization_server()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != TOKEN_PATH:
                    self._answer(404, b'{"error": "not_found"}', [])
                    return
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                form = parse_qsl(self.rfile.read(length).decode("utf-8", "replace"))
                uri = f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}"
                request = _Request(uri, dict(self.headers.items()), form)
                self._answer(*server.create_token_response(request))

            def do_GET(self) -> None:
                scheme, _, token = self.headers.get("Authorization", "").partition(" ")
                if self.path != API_PATH:
                    self._answer(404, b'{"error": "not_found"}', [])
                elif scheme.lower() == "bearer" and demo.accepts(token):
                    self._answer(200, b'{"id": "demo-user", "name": "Demo User"}', [])
                else:
                    self._answer(401, b'{"error": "invalid_token"}', [])

            def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the demo prints renewer's own lines."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="demo-oauth", daemon=True
        )
        self._thread.start()

    def add_client(self) -> Client:
        return self.demo.add_client()

    def accepts(self, token: str) -> bool:
        return self.demo.accepts(token)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
