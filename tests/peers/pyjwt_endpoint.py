"""An RFC 7523 JWT-bearer token endpoint that verifies assertions with PyJWT, and an API.

PyJWT is a library renewer does not use (renewer signs with joserfc), so this
endpoint is an outside judge of what renewer sends: ``jwt.decode`` with the
issuer's registered public key and algorithm, ``aud`` equal to the token URL,
and every claim RFC 7523 §3 says MUST be there (``iss``, ``sub``, ``aud``,
``exp``) required. A refusal answers ``400 {"error": "invalid_grant"}`` with
PyJWT's reason, as token endpoints do. ``GET /v1/me`` answers 200 to a bearer
token issued here. ``claims`` keeps the verified claim sets (no secrets).
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

import jwt
from flask import Flask, jsonify, request

from tests.peers.serving import Served

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REQUIRED = ["iss", "sub", "aud", "exp"]  # RFC 7523 §3


class PyJwtEndpoint:
    """``token_url`` takes assertions; ``url + "/v1"`` is the API."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[Any, str]] = {}  # iss → (public key, algorithm)
        self.claims: list[dict[str, Any]] = []
        self.refusals: list[str] = []
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._served = Served(self._app())
        self.url = self._served.url
        self.token_url = f"{self.url}/token"

    def stop(self) -> None:
        self._served.stop()

    def register(self, issuer: str, public_key: Any, algorithm: str) -> None:
        self.keys[issuer] = (public_key, algorithm)

    def _refuse(self, reason: str) -> Any:
        with self._lock:
            self.refusals.append(reason)
        return jsonify(error="invalid_grant", error_description=reason), 400

    def _app(self) -> Flask:
        app = Flask("pyjwt-endpoint")

        @app.post("/token")
        def token() -> Any:
            if request.form.get("grant_type") != GRANT_TYPE:
                return jsonify(error="unsupported_grant_type"), 400
            assertion = request.form.get("assertion", "")
            try:
                issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
                key, algorithm = self.keys[str(issuer)]
                claims = jwt.decode(
                    assertion,
                    key,
                    algorithms=[algorithm],
                    audience=self.token_url,
                    issuer=issuer,
                    options={"require": REQUIRED},
                )
            except KeyError:
                return self._refuse("unknown issuer")
            except jwt.PyJWTError as exc:
                return self._refuse(str(exc))
            access = secrets.token_urlsafe(24)
            with self._lock:
                self.claims.append(claims)
                self._tokens.add(access)
            return jsonify(access_token=access, token_type="Bearer", expires_in=3600)

        @app.get("/v1/me")
        def me() -> Any:
            header = request.headers.get("Authorization", "")
            if header.removeprefix("Bearer ") in self._tokens:
                return jsonify(ok=True)
            return jsonify(ok=False), 401

        return app
