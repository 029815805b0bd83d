"""``renewer auth login NAME``: the first OAuth2 authorization, by loopback redirect (RFC 8252).

1. A one-shot HTTP server listens on ``127.0.0.1`` (a random port unless
   one is given, e.g. for an SSH tunnel to a remote devvm).
2. The authorize URL is printed (and opened in a browser only if asked),
   with a random ``state`` and a PKCE S256 challenge, always: PKCE protects
   confidential clients too.
3. The first request to ``/callback`` is checked: ``state`` must match
   (``secrets.compare_digest``), or nothing else in it is believed: a forged
   or stale redirect. Then an ``error`` is reported as such, or the code is
   exchanged with the verifier.
4. The tokens are stored under the credential's lock; a stored
   needs-reauth mark is gone with them.

Nothing arrives within the timeout (default 5 minutes) → an error; the
server is closed either way. The server never logs request lines: the
query string of the callback holds the authorization code.
"""

from __future__ import annotations

import http.server
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import structlog

from renewer.credentials.handle import Credential
from renewer.credentials.refresh_lock import held
from renewer.errors import CredentialError
from renewer.primitives.base import RuntimeState
from renewer.primitives.oauth2 import CODE_GRANTS, OAuth2

DEFAULT_TIMEOUT = 300.0
CALLBACK_PATH = "/callback"
_PAGE = (
    "<!doctype html><meta charset=utf-8><title>renewer</title>"
    "<p>{message}</p><p>You can close this tab and return to the terminal.</p>"
)

log = structlog.get_logger("renewer")


@dataclass(frozen=True, slots=True)
class Callback:
    """What the redirect carried (the code is a short-lived secret: no repr)."""

    state: str | None
    code: str | None
    error: str | None
    description: str

    def __repr__(self) -> str:
        return f"Callback(error={self.error!r}, has_code={self.code is not None})"


class CallbackServer:
    """A loopback server whose first ``/callback`` request completes the login."""

    def __init__(self, *, port: int = 0) -> None:
        self.result: Callback | None = None
        self._done = threading.Event()
        self._server = http.server.HTTPServer(("127.0.0.1", port), self._handler())
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_port}{CALLBACK_PATH}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float) -> Callback | None:
        """The callback, or None after *timeout* seconds."""
        self._done.wait(timeout)
        return self.result

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH or owner._done.is_set():
                    self._reply(404, "Nothing here.")
                    return
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                owner.result = Callback(
                    state=query.get("state"),
                    code=query.get("code"),
                    error=query.get("error"),
                    description=query.get("error_description", ""),
                )
                owner._done.set()
                failed = owner.result.error or not owner.result.code
                self._reply(200, "Authorization failed." if failed else "Authorization received.")

            def _reply(self, status: int, message: str) -> None:
                body = _PAGE.format(message=message).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the request line holds the authorization code

        return Handler


def login(
    credential: Credential,
    *,
    announce: Callable[[str, str], None],
    open_browser: Callable[[str], object] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    port: int = 0,
) -> RuntimeState:
    """Authorize *credential* interactively; store and return the new runtime state.

    *announce* gets the authorize URL and the redirect URI to show the person.
    """
    primitive = _check_loginable(credential)
    state = credential.state()
    verifier = secrets.token_urlsafe(64)  # 86 characters: within PKCE's 43..128
    csrf = secrets.token_urlsafe(24)
    server = CallbackServer(port=port)
    try:
        url = primitive.authorization_url(
            state, redirect_uri=server.redirect_uri, csrf_state=csrf, code_verifier=verifier
        )
        announce(url, server.redirect_uri)
        if open_browser is not None:
            open_browser(url)
        callback = server.wait(timeout)
    finally:
        server.close()
    code = _checked_callback(credential.name, callback, csrf, timeout)
    runtime = primitive.exchange_code(
        state,
        http=credential.http,
        code=code,
        code_verifier=verifier,
        redirect_uri=server.redirect_uri,
    )
    with held(credential.lock_file, timeout=credential.lock_timeout, what=credential.name):
        credential.save_runtime(runtime, after="the authorization server issued tokens")
    log.info("credential.authorized", credential=credential.name)
    return runtime


def _check_loginable(credential: Credential) -> OAuth2:
    name, recipe = credential.name, credential.recipe
    if not isinstance(credential.primitive, OAuth2):
        raise CredentialError(
            f"{name} uses the {recipe.primitive} primitive: there is nothing to log in to",
            hint=f"renewer creds set {name}",
        )
    if recipe.grant not in CODE_GRANTS:
        raise CredentialError(
            f"{name} uses the {recipe.grant} grant, which needs no login: "
            "each run fetches a token with the client credentials",
            hint=f"renewer creds test {name}",
        )
    return credential.primitive


def _checked_callback(name: str, callback: Callback | None, csrf: str, timeout: float) -> str:
    again = f"renewer auth login {name}"
    if callback is None:
        raise CredentialError(
            f"{name}: no authorization arrived within {timeout:g}s; nothing was stored",
            hint=f"{again}, then open the printed URL in a browser that can reach this machine",
        )
    if callback.state is None or not secrets.compare_digest(callback.state.encode(), csrf.encode()):
        raise CredentialError(
            f"{name}: the redirect's state does not match this login "
            "(a forged or stale redirect); nothing was stored",
            hint=again,
        )
    if callback.error:
        said = callback.error + (f": {callback.description}" if callback.description else "")
        raise CredentialError(
            f"{name}: the authorization server did not authorize ({said[:200]})", hint=again
        )
    if not callback.code:
        raise CredentialError(
            f"{name}: the redirect carried no code; nothing was stored", hint=again
        )
    return callback.code
