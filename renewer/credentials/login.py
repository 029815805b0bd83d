"""``renewer auth login NAME``: the first OAuth2 authorization, by loopback redirect (RFC 8252).

1. A one-shot HTTP server listens on ``127.0.0.1`` (a random port unless
   one is given, e.g. for an SSH tunnel to a remote devvm).
2. The authorize URL is printed (and opened in a browser only if asked),
   with a random ``state`` and a PKCE S256 challenge, always: PKCE protects
   confidential clients too.
3. Each request to ``/callback`` is checked: ``state`` must match
   (``secrets.compare_digest``), or nothing else in it is believed: a forged
   or stale redirect is answered 400, logged (``credential.login_refused``)
   and the listener keeps waiting for the right one (issue 20, item 6:
   another local user could otherwise end a login with one request). The
   first request with the right state ends the wait: its ``error`` is
   reported as such, or its code is exchanged with the verifier.
4. The tokens are stored under the credential's lock; a stored
   needs-reauth mark is gone with them.

Every connection is served in its own thread and must send its request
within ``CONNECTION_TIMEOUT`` seconds, so a client that connects and sends
nothing (or garbage) cannot stall the browser's redirect; at most
``MAX_CONNECTIONS`` are served at once, more are closed at once.

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
CONNECTION_TIMEOUT = 5.0  # a browser sends its redirect at once; a stalled client is cut off
MAX_CONNECTIONS = 128  # threads are cheap; a local flood is cut off at 5 s each
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


class _BoundedServer(http.server.ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS at once; the rest are closed."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        super().__init__(address, handler)
        self._active = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._active.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._active.release()


class CallbackServer:
    """A loopback server: the first ``/callback`` with *expected_state* completes the login.

    Requests with another state (or none) are refused, counted in
    ``refused`` and logged; the wait goes on.
    """

    def __init__(self, *, expected_state: str, port: int = 0) -> None:
        self.result: Callback | None = None
        self.refused = 0
        self._expected = expected_state.encode()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._server = _BoundedServer(("127.0.0.1", port), self._handler())
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
            timeout = CONNECTION_TIMEOUT  # applied to the socket before the request is read

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH or owner._done.is_set():
                    self._reply(404, "Nothing here.")
                    return
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                callback = Callback(
                    state=query.get("state"),
                    code=query.get("code"),
                    error=query.get("error"),
                    description=query.get("error_description", ""),
                )
                if not owner._accept(callback):
                    self._reply(400, "This redirect does not belong to the waiting login.")
                    return
                failed = callback.error or not callback.code
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

    def _accept(self, callback: Callback) -> bool:
        """Take *callback* if its state is ours and none was taken; else count and log it."""
        ours = callback.state is not None and secrets.compare_digest(
            callback.state.encode(), self._expected
        )
        with self._lock:
            if ours and not self._done.is_set():
                self.result = callback
                self._done.set()
                return True
            if not ours:
                self.refused += 1
        if not ours:
            log.warning(
                "credential.login_refused",
                summary="a redirect with a wrong state was refused (forged or stale); "
                "still waiting for the authorization",
            )
        return False


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
    server = CallbackServer(expected_state=csrf, port=port)
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
    code = _checked_callback(credential.name, callback, csrf, timeout, refused=server.refused)
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


def _checked_callback(
    name: str, callback: Callback | None, csrf: str, timeout: float, *, refused: int = 0
) -> str:
    again = f"renewer auth login {name}"
    if callback is None:
        forged = (
            f" ({refused} redirect(s) with a wrong state were refused: forged or stale)"
            if refused
            else ""
        )
        where = (
            "in a new browser tab (an old tab or another program sent the wrong state)"
            if refused
            else "in a browser that can reach this machine"
        )
        raise CredentialError(
            f"{name}: no authorization arrived within {timeout:g}s{forged}; nothing was stored",
            hint=f"{again}, then open the printed URL {where}",
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
