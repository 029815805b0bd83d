"""A real OAuth 2.0 authorization server on 127.0.0.1 for tests.

Built from Authlib's Flask server (``AuthorizationServer`` with the
authorization-code grant plus ``CodeChallenge`` for PKCE, the refresh-token
grant with rotation, and client credentials) and served by werkzeug in a
thread. Clients authenticate with ``client_secret_basic``,
``client_secret_post`` or, for public clients, ``none``; PKCE is verified
by Authlib. The authorize endpoint approves at once for the test user (it
stands in for the person clicking "Allow").

Switchable modes (attributes of :class:`OAuthPeer`) for the failure cases:
``rotate`` refresh tokens or not, ``expires_in``, ``fail_next`` token
requests with 500, ``invalid_grant`` on every refresh, ``slow`` (hold token
requests until ``release()``), ``raw_answer`` (answer token requests with
anything), ``deny`` or ``wrong_state`` at the authorize endpoint. It counts
token requests by grant and records, without values, how clients
authenticated.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, Response, jsonify, request

from tests.peers.serving import Served

USER = {"id": "user-1", "name": "Test User"}


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    client_secret: str | None
    auth_method: str  # client_secret_basic | client_secret_post | none
    grant_types: frozenset[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return ""

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or "read"  # Authlib: an omitted scope takes the client's default

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        parts = urlsplit(redirect_uri)
        return (
            parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.path == "/callback"
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and secrets.compare_digest(
            client_secret.encode(), self.client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token:
    client_id: str
    access_token: str
    refresh_token: str | None
    scope: str
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def is_expired(self) -> bool:
        return False

    def get_user(self) -> dict[str, str]:
        return USER


class _Server(AuthorizationServer):  # type: ignore[misc]
    peer: OAuthPeer


_ALL_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = _ALL_METHODS

    def save_authorization_code(self, code: str, req: Any) -> None:
        peer: OAuthPeer = self.server.peer
        peer.codes[code] = AuthCode(
            code=code,
            client_id=req.client.client_id,
            redirect_uri=req.payload.redirect_uri,
            scope=req.payload.scope or "",
            code_challenge=req.payload.data.get("code_challenge"),
            code_challenge_method=req.payload.data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthCode | None:
        item: AuthCode | None = self.server.peer.codes.get(code)
        return item if item is not None and item.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: AuthCode) -> None:
        self.server.peer.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: AuthCode) -> dict[str, str]:
        return USER


class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = _ALL_METHODS

    @property
    def INCLUDE_NEW_REFRESH_TOKEN(self) -> bool:
        return bool(self.server.peer.rotate)

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        peer: OAuthPeer = self.server.peer
        for token in peer.tokens:
            if token.refresh_token == refresh_token and not token.revoked:
                return token
        return None

    def authenticate_user(self, credential: Token) -> dict[str, str]:
        return USER

    def revoke_old_credential(self, credential: Token) -> None:
        if self.server.peer.rotate:
            credential.revoked = True


class ClientCredentials(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]


class OAuthPeer:
    """The authorization server plus its switches and counters."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, AuthCode] = {}
        self.tokens: list[Token] = []
        # modes
        self.rotate = True
        self.expires_in = 3600
        self.fail_next = 0
        self.invalid_grant = False
        self.raw_answer: tuple[int, str, bytes] | None = None
        self.deny = False
        self.wrong_state = False
        self._slow = threading.Event()
        self._released = threading.Event()
        # observations (no secret values)
        self.token_requests: Counter[str] = Counter()
        self.client_auth_seen: list[str] = []
        self.challenge_methods: list[str | None] = []
        self._lock = threading.Lock()
        self.app = self._build_app()
        self._served = Served(self.app)
        self.url = self._served.url
        self.authorize_url = f"{self.url}/authorize"
        self.token_url = f"{self.url}/token"

    def stop(self) -> None:
        self.release()
        self._served.stop()

    # --- set-up -----------------------------------------------------------

    def add_client(
        self,
        client_id: str,
        client_secret: str | None,
        *,
        auth_method: str = "client_secret_basic",
        grant_types: tuple[str, ...] = ("authorization_code", "refresh_token"),
    ) -> Client:
        client = Client(client_id, client_secret, auth_method, frozenset(grant_types))
        self.clients[client_id] = client
        return client

    def issue(
        self, client_id: str, *, refresh: bool = True, expires_in: int | None = None
    ) -> Token:
        """A token as if a login had happened (for tests that start past the login)."""
        token = Token(
            client_id=client_id,
            access_token=secrets.token_urlsafe(24),
            refresh_token=secrets.token_urlsafe(32) if refresh else None,
            scope="read",
            expires_in=self.expires_in if expires_in is None else expires_in,
        )
        self.tokens.append(token)
        return token

    def slow(self) -> None:
        """Hold every token request until :meth:`release` (or 5 s)."""
        self._released.clear()
        self._slow.set()

    def release(self) -> None:
        self._slow.clear()
        self._released.set()

    # --- queries for the API peer and assertions ----------------------------

    def is_valid_access_token(self, value: str) -> bool:
        return any(t.access_token == value and not t.revoked for t in self.tokens)

    @property
    def refresh_count(self) -> int:
        return self.token_requests["refresh_token"]

    # --- the app ------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("oauth-peer")
        server = _Server(app, query_client=self.clients.get, save_token=self._save_token)
        server.peer = self
        server.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda *a, **k: secrets.token_urlsafe(24),
                lambda *a, **k: secrets.token_urlsafe(32),
                lambda client, grant_type: self.expires_in,
            ),
        )
        server.register_grant(CodeGrant, [CodeChallenge(required=True)])
        server.register_grant(RefreshGrant)
        server.register_grant(ClientCredentials)

        @app.get("/authorize")
        def authorize() -> Any:
            self.challenge_methods.append(request.args.get("code_challenge_method"))
            grant = server.get_consent_grant(end_user=USER)
            if self.deny:
                return server.create_authorization_response(grant_user=None, grant=grant)
            response = server.create_authorization_response(grant_user=USER, grant=grant)
            if self.wrong_state and "Location" in response.headers:
                response.headers["Location"] = _replace_param(
                    response.headers["Location"], "state", "forged-state"
                )
            return response

        @app.post("/token")
        def token() -> Any:
            grant = request.form.get("grant_type", "")
            with self._lock:
                self.token_requests[grant] += 1
                self.client_auth_seen.append(_auth_method_of(request))
                failing = self.fail_next > 0
                if failing:
                    self.fail_next -= 1
            if self._slow.is_set():
                self._released.wait(5)
            if failing:
                return Response("<html>upstream exploded</html>", 500, content_type="text/html")
            if self.raw_answer is not None:
                status, content_type, body = self.raw_answer
                return Response(body, status, content_type=content_type)
            if self.invalid_grant and grant == "refresh_token":
                return jsonify(
                    error="invalid_grant", error_description="refresh token revoked"
                ), 400
            with self._lock:  # one grant at a time: rotation must be race-free here too
                return server.create_token_response()

        return app

    def _save_token(self, token: dict[str, Any], req: Any) -> None:
        self.tokens.append(
            Token(
                client_id=req.client.client_id,
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                scope=token.get("scope", ""),
                expires_in=int(token.get("expires_in", 0)),
            )
        )


def _auth_method_of(req: Any) -> str:
    if req.headers.get("Authorization", "").startswith("Basic "):
        return "client_secret_basic"
    if req.form.get("client_secret"):
        return "client_secret_post"
    return "none"


def _replace_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, value if k == name else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))
