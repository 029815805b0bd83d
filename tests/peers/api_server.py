"""A local HTTP API that checks each way a credential can be injected.

Routes under ``/v1`` (a base URL with a path, like real APIs):

* ``/v1/header``, ``/v1/users/me``, ``/v1/models``, ``/v1/user``: ``Authorization: Bearer <key>``
* ``/v1/query``: ``?api_key=<key>``
* ``/v1/body``: a JSON body with ``"api_key": "<key>"`` (other fields are kept and echoed by name)
* ``/v1/form``: a form body with ``api_key=<key>``
* ``/v1/basic``: HTTP Basic auth with ``<key>`` as the user name
* ``/v1/auth.test``: Slack-style: always 200, ``{"ok": true|false}``
* ``/v1/html``: 200 with an HTML page (not JSON)
* ``/v1/echo-header``: answers which header names arrived (never values)
* ``/v1/flaky``: 503 for the next ``flaky`` requests, then like ``/v1/header``
* ``/v1/redirect``: 307 to ``?to=URL``

A key is accepted when it is in :attr:`ApiPeer.keys` or the ``validator``
(e.g. the OAuth peer's issued access tokens) accepts it. Every request is
recorded without values: method, path, and whether it was authorized.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, redirect, request

from tests.peers.serving import Served


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    authorized: bool


class ApiPeer:
    """The API; ``url`` is ``http://127.0.0.1:PORT`` and the base URL is ``url + "/v1"``."""

    def __init__(self, validator: Callable[[str], bool] | None = None) -> None:
        self.keys: set[str] = set()
        self.validator = validator
        self.flaky = 0
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.app = self._build_app()
        self._served = Served(self.app)
        self.url = self._served.url
        self.base_url = f"{self.url}/v1"

    def stop(self) -> None:
        self._served.stop()

    def accepts(self, value: str | None) -> bool:
        if not value:
            return False
        if any(secrets.compare_digest(value.encode(), key.encode()) for key in self.keys):
            return True
        return bool(self.validator and self.validator(value))

    def _record(self, authorized: bool) -> None:
        with self._lock:
            self.seen.append(Seen(request.method, request.path, authorized))

    def _answer(self, authorized: bool, style: str, **extra: Any) -> Any:
        self._record(authorized)
        if authorized:
            return jsonify(ok=True, style=style, **extra)
        return jsonify(ok=False, error="unauthorized"), 401

    def _bearer(self) -> str | None:
        header = request.headers.get("Authorization", "")
        return header[7:] if header.startswith("Bearer ") else None

    def _build_app(self) -> Flask:
        app = Flask("api-peer")
        methods = ["GET", "POST"]

        @app.route("/v1/header", methods=methods)
        @app.route("/v1/users/me", methods=methods)
        @app.route("/v1/models", methods=methods)
        @app.route("/v1/user", methods=methods)
        def header() -> Any:
            return self._answer(self.accepts(self._bearer()), "header")

        @app.route("/v1/query", methods=methods)
        def query() -> Any:
            return self._answer(self.accepts(request.args.get("api_key")), "query")

        @app.post("/v1/body")
        def body() -> Any:
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                self._record(False)
                return jsonify(ok=False, error="expected a JSON object"), 400
            return self._answer(self.accepts(data.get("api_key")), "body", fields=sorted(data))

        @app.post("/v1/form")
        def form() -> Any:
            return self._answer(
                self.accepts(request.form.get("api_key")), "form", fields=sorted(request.form)
            )

        @app.route("/v1/basic", methods=methods)
        def basic() -> Any:
            header = request.headers.get("Authorization", "")
            user = None
            if header.startswith("Basic "):
                decoded = base64.b64decode(header[6:]).decode()
                user = decoded.split(":", 1)[0]
            return self._answer(self.accepts(user), "basic")

        @app.post("/v1/auth.test")
        def slack() -> Any:
            authorized = self.accepts(self._bearer())
            self._record(authorized)
            return jsonify(ok=authorized)

        @app.get("/v1/html")
        def html() -> Any:
            self._record(self.accepts(self._bearer()))
            return Response("<html><body>hello</body></html>", 200, content_type="text/html")

        @app.route("/v1/echo-header", methods=methods)
        def echo_header() -> Any:
            self._record(True)
            return jsonify(headers=sorted(request.headers.keys()))

        @app.get("/v1/flaky")
        def flaky() -> Any:
            with self._lock:
                failing = self.flaky > 0
                self.flaky -= 1 if failing else 0
            if failing:
                self._record(False)
                return Response("busy", 503)
            return self._answer(self.accepts(self._bearer()), "header")

        @app.route("/v1/redirect", methods=methods)
        def moved() -> Any:
            self._record(False)
            return redirect(request.args["to"], code=307)

        return app
