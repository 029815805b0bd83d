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

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from renewer.devserver.approle import APPROLE_MOUNT
from renewer.devserver.controls import Counters, FaultKind, Faults
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
from renewer.devserver.replies import (
    Response,
    StartResponse,
    error_response,
    fault_response,
    rate_limited,
    reply_response,
    send,
)
from renewer.devserver.request import Incoming, parse, wsgi_path
from renewer.devserver.routing import Handler, Match, Router
from renewer.devserver.sys_api import SYS_MOUNT
from renewer.devserver.token_api import ROOT_PATHS as TOKEN_ROOT_PATHS
from renewer.devserver.token_api import TOKEN_MOUNT

if TYPE_CHECKING:
    from renewer.devserver.state import State
    from renewer.devserver.tokens import TokenEntry

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
        return send(self.respond(environ), environ, start_response)

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
            return fault_response(fault, path)
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
            raise rate_limited(path, limit.retry_after, headers=limit.headers, limit=limit.limit)
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
