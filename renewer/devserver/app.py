"""The WSGI application: Vault's request pipeline, in Vault's order.

For a request to ``/v1/<path>``:

1. count it, then let an armed fault take it (``controls.py``);
2. server modes: rate-limited → 429, standby → 307 to the active node,
   sealed → 503 (``sys/health``, ``sys/seal-status`` and ``sys/init`` answer
   in every mode, as in Vault);
3. parse method, query and body (``request.py``);
4. under the state lock: expire tokens, authenticate (missing token → 403
   ``permission denied``; unknown/expired/revoked → 403 invalid token),
   spend a use, check the ACL and ``sudo`` for root paths (→ 403), and only
   then route (404 no handler / unsupported path, 405 unsupported
   operation) and run the handler;
5. revoke a token whose last use this was; shape the reply.

Everything else is 404 with ``{"errors":[]}``, except ``/_dev/`` when the
dev controls are on.
"""

from __future__ import annotations

import http
import logging
import socket
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from renewer.devserver.approle import APPROLE_MOUNT
from renewer.devserver.controls import Counters, Fault, FaultKind, Faults
from renewer.devserver.encoding import envelope_body, error_body, raw_body
from renewer.devserver.kv import KV_MOUNT
from renewer.devserver.pki import PKI_MOUNT
from renewer.devserver.policy import Capability
from renewer.devserver.protocol import (
    ApiError,
    Call,
    Operation,
    Reply,
    multierror,
    permission_denied,
    unsupported_operation,
    unsupported_path,
)
from renewer.devserver.request import Incoming, parse, wsgi_path
from renewer.devserver.routing import Handler, Match, Router
from renewer.devserver.sys_api import SYS_MOUNT
from renewer.devserver.token_api import ROOT_PATHS as TOKEN_ROOT_PATHS
from renewer.devserver.token_api import TOKEN_MOUNT

if TYPE_CHECKING:
    from renewer.devserver.state import State
    from renewer.devserver.tokens import TokenEntry

StartResponse = Callable[..., Any]
_log = logging.getLogger(__name__)

_CAPABILITY = {
    Operation.READ: Capability.READ,
    Operation.LIST: Capability.LIST,
    Operation.CREATE: Capability.CREATE,
    Operation.UPDATE: Capability.UPDATE,
    Operation.DELETE: Capability.DELETE,
    Operation.PATCH: Capability.PATCH,
}
ROOT_PATHS = (*TOKEN_ROOT_PATHS, "sys/auth/")
"""Path prefixes that need ``sudo`` besides the operation's capability."""
ALWAYS_SERVED = frozenset({"sys/health", "sys/seal-status", "sys/init"})
"""Paths a sealed, standby or rate-limited Vault still answers itself."""

_FAULT_MESSAGES = {
    500: "internal error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}
_JSON_HEADERS = (("Cache-Control", "no-store"), ("Content-Type", "application/json"))
_AUTH_NULL = (
    b'{"request_id":"00000000-0000-0000-0000-000000000000","lease_id":"","renewable":false,'
    b'"lease_duration":0,"data":null,"wrap_info":null,"warnings":null,"auth":null}'
)
_HTML = b"<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>\n"


@dataclass(frozen=True, slots=True)
class Response:
    """Bytes to send. *truncate* sends half the body under the full length; *reset* none."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    truncate: bool = False
    reset: bool = False


def error_response(error: ApiError) -> Response:
    """Vault's error envelope with its exact content type."""
    headers = (
        ("Cache-Control", "no-store"),
        ("Content-Type", "application/json"),
        *error.headers.items(),
    )
    return Response(error.status, headers, error_body(error.messages))


def reply_response(reply: Reply, *, mount_type: str) -> Response:
    """A handler's reply as bytes: a raw body, raw JSON, the envelope, or 204."""
    if reply.body is not None:
        headers = (
            ("Cache-Control", "no-store"),
            ("Content-Type", reply.content_type),
            *reply.headers.items(),
        )
        return Response(reply.status, headers, reply.body)
    if reply.raw is not None:
        body = raw_body(reply.raw)
    elif reply.is_empty:
        return Response(204, (("Cache-Control", "no-store"), *reply.headers.items()))
    else:
        body = envelope_body(reply, mount_type=mount_type)
    headers = (
        ("Cache-Control", "no-store"),
        ("Content-Type", "application/json"),
        *reply.headers.items(),
    )
    return Response(reply.status, headers, body)


def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _drop_connection(environ: Mapping[str, Any]) -> None:
    """Abort the TCP connection under this request (waitress only).

    ``SO_LINGER`` 0 makes the eventual close an RST; the shutdown stops the
    response from reaching the client, which sees the connection die.
    """
    checker = environ.get("waitress.client_disconnected")
    channel = getattr(checker, "__self__", None)
    sock = getattr(channel, "socket", None)
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.shutdown(socket.SHUT_RDWR)


class VaultApp:
    """The dev server's WSGI callable."""

    def __init__(
        self,
        state: State,
        *,
        faults: Faults,
        counters: Counters,
        dev_api: Callable[[Mapping[str, Any], str], Response] | None = None,
    ) -> None:
        self.state = state
        self.faults = faults
        self.counters = counters
        self.dev_api = dev_api
        self.router = Router([TOKEN_MOUNT, SYS_MOUNT, KV_MOUNT, APPROLE_MOUNT, PKI_MOUNT])

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        response = self.respond(environ)
        if response.reset:
            _drop_connection(environ)
        headers = list(response.headers)
        if response.status != 204:
            headers.append(("Content-Length", str(len(response.body))))
        start_response(_status_line(response.status), headers)
        if response.truncate:
            return [response.body[: len(response.body) // 2]]
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [response.body]

    def respond(self, environ: Mapping[str, Any]) -> Response:
        """The response for one request, never raising."""
        path = wsgi_path(environ)
        try:
            if path.startswith("/_dev/") and self.dev_api is not None:
                return self.dev_api(environ, path)
            if not path.startswith("/v1/"):
                return error_response(ApiError(404))
            return self._vault(environ, path[len("/v1/") :])
        except ApiError as exc:
            return error_response(exc)
        except Exception:  # a bug here must not take the server down
            _log.exception("dev server internal error")
            return error_response(ApiError(500, multierror("internal error")))

    def _vault(self, environ: Mapping[str, Any], path: str) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        self.counters.count(path, method)
        fault = self.faults.take(path, method)
        if fault is not None and fault.kind is FaultKind.LATENCY:
            time.sleep(fault.delay)
        elif fault is not None and fault.kind is FaultKind.TRUNCATE:
            return replace(self._serve(environ, path), truncate=True)
        elif fault is not None:
            return _fault_response(fault, path)
        return self._serve(environ, path)

    def _serve(self, environ: Mapping[str, Any], path: str) -> Response:
        try:
            redirect = self._modes(environ, path)
            if redirect is not None:
                return redirect
            incoming = parse(environ, path=path, max_size=self.state.settings.max_request_size)
            with self.state.lock:
                reply, mount_type = self._dispatch(incoming)
            return reply_response(reply, mount_type=mount_type)
        except ApiError as exc:
            return error_response(exc)

    def _modes(self, environ: Mapping[str, Any], path: str) -> Response | None:
        if path in ALWAYS_SERVED:
            return None
        modes = self.state.modes
        if modes.ratelimit is not None:
            limit = modes.ratelimit
            raise _rate_limited(path, limit.retry_after, headers=limit.headers, limit=limit.limit)
        if modes.standby_redirect is not None:
            query = str(environ.get("QUERY_STRING", ""))
            location = f"{modes.standby_redirect}/v1/{path}" + (f"?{query}" if query else "")
            return Response(307, (("Cache-Control", "no-store"), ("Location", location)))
        if modes.sealed:
            raise ApiError(503, "Vault is sealed")
        return None

    def _dispatch(self, incoming: Incoming) -> tuple[Reply, str]:
        now = self.state.clock.now()
        match = self.router.match(incoming.path)
        route = match.route if match is not None else None
        operation = self._operation(incoming, match)
        token: TokenEntry | None = None
        last_use = False
        if route is None or not route.unauthenticated:
            token, last_use = self._authenticate(incoming.token_id, now)
        try:
            if token is not None:
                self._authorize(token, operation, incoming.path)
            handler = self._handler(incoming, match, operation)
            assert match is not None
            call = Call(
                operation=operation,
                path=incoming.path,
                params=match.params,
                data=incoming.data,
                query=incoming.query,
                token=token,
                token_id=incoming.token_id,
                now=now,
            )
            reply = handler(self.state, call)
        finally:
            if last_use and token is not None:
                self.state.tokens.revoke_tree(token.id)
        mount_type = reply.mount_type if reply.mount_type is not None else match.mount.mount_type
        return reply, mount_type

    def _operation(self, incoming: Incoming, match: Match | None) -> Operation:
        """POST/PUT become ``create`` when the route says the target does not exist yet."""
        route = match.route if match is not None else None
        if incoming.operation is not Operation.UPDATE or route is None or route.existence is None:
            return incoming.operation
        assert match is not None
        exists = route.existence(self.state, match.params)
        return Operation.UPDATE if exists else Operation.CREATE

    def _authenticate(self, token_id: str, now: float) -> tuple[TokenEntry, bool]:
        if not token_id:
            raise ApiError(403, "permission denied")
        entry = self.state.tokens.get(token_id, now)
        if entry is None:
            raise self._invalid_token()
        return self.state.tokens.use(entry)

    def _invalid_token(self) -> ApiError:
        if self.state.settings.legacy_invalid_token:
            return ApiError(403, "permission denied")
        return ApiError(403, multierror("permission denied", "invalid token"))

    def _authorize(self, token: TokenEntry, operation: Operation, path: str) -> None:
        acl = self.state.policies.acl(token.policies)
        is_list = operation is Operation.LIST
        if not acl.allows(_CAPABILITY[operation], path, is_list=is_list):
            raise permission_denied()
        if path.startswith(ROOT_PATHS) and not acl.has_sudo(path, is_list=is_list):
            raise permission_denied()

    def _handler(self, incoming: Incoming, match: Match | None, operation: Operation) -> Handler:
        if match is None:
            raise ApiError(404, f'no handler for route "{incoming.path}". route entry not found.')
        if match.route is None:
            raise unsupported_path()
        handler = match.route.handlers.get(operation)
        if handler is None:
            raise unsupported_operation()
        return handler


def _rate_limited(path: str, retry_after: int, *, headers: bool, limit: int = 10) -> ApiError:
    extra = {}
    if headers:
        extra = {
            "Retry-After": str(retry_after),
            "X-Ratelimit-Limit": str(limit),
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": str(retry_after),
        }
    return ApiError(429, f'request path "{path}": rate limit quota exceeded', headers=extra)


def _fault_response(fault: Fault, path: str) -> Response:
    retry = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if fault.kind is FaultKind.STATUS:
        message = _FAULT_MESSAGES.get(fault.status, "injected fault")
        return error_response(ApiError(fault.status, message, headers=retry))
    if fault.kind is FaultKind.SEALED:
        return error_response(ApiError(503, "Vault is sealed", headers=retry))
    if fault.kind is FaultKind.RATELIMIT:
        return error_response(_rate_limited(path, fault.retry_after or 1, headers=True))
    if fault.kind is FaultKind.RESET:
        return Response(500, (), reset=True)
    if fault.kind is FaultKind.AUTHNULL:
        return Response(200, _JSON_HEADERS, _AUTH_NULL)
    headers = (("Cache-Control", "no-store"), ("Content-Type", "text/html"))
    return Response(fault.status, headers, _HTML)
