"""The ``/_dev/`` HTTP API: the DevServer's test controls for other processes.

Only mounted when dev controls are enabled; otherwise ``/_dev/...`` is a
plain 404 like any unknown path. Never counted, never faulted. Bodies are
JSON; errors use Vault's ``{"errors": [...]}`` shape.

====== ======================= ==============================================
POST   /_dev/clock/advance     ``{"seconds": N}`` → ``{"now", "offset"}``
GET    /_dev/clock             ``{"now", "offset"}``
POST   /_dev/faults            ``{"kind", "path", "method", "status", "delay",
                               "retry_after", "count", "skip", "message"}``
                               → ``{"id"}``
GET    /_dev/faults            ``{"faults": [...]}``
DELETE /_dev/faults            clear all faults
GET    /_dev/counters          ``{"counters": {...}}`` (``?by=method`` for
                               ``"METHOD path"`` keys)
DELETE /_dev/counters          reset counters
POST   /_dev/seal | unseal     seal / unseal
POST   /_dev/standby           ``{"active_addr": "http://..."}``; DELETE: active
POST   /_dev/ratelimit         ``{"retry_after", "limit", "headers"}``; DELETE: off
GET    /_dev/tokens            ``?display_name=X`` → ``{"tokens": [...]}``
GET    /_dev/stats             ``{"live_tokens": N}``
====== ======================= ==============================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from renewer.devserver.encoding import raw_body
from renewer.devserver.protocol import ApiError
from renewer.devserver.replies import Response, error_response
from renewer.devserver.request import decode_json_body, parse_query, read_body
from renewer.devserver.state import RateLimitMode
from renewer.devserver.tokens import TokenEntry

if TYPE_CHECKING:
    from renewer.devserver.controls import Counters, Faults
    from renewer.devserver.state import State

_Json = dict[str, Any]


def token_summary(entry: TokenEntry, now: float) -> _Json:
    """What tests may know about a live token: everything but its id."""
    lease = entry.lease
    ttl = int(lease.expire_time - round(now)) if lease is not None and lease.expire_time else 0
    return {
        "accessor": entry.accessor,
        "display_name": entry.display_name,
        "policies": list(entry.policies),
        "path": entry.path,
        "meta": dict(entry.meta) if entry.meta is not None else None,
        "orphan": entry.orphan,
        "type": entry.type.value,
        "ttl": ttl,
        "period": entry.period,
        "explicit_max_ttl": entry.explicit_max_ttl,
        "num_uses": entry.num_uses,
        "creation_time": int(entry.creation_time),
    }


def tokens_by_display_name(state: State, display_name: str | None) -> list[_Json]:
    """Live tokens, optionally only those with this display name (a scan: test use only)."""
    with state.lock:
        now = state.clock.now()
        state.tokens.reap(now)
        return [
            token_summary(entry, now)
            for entry in state.tokens
            if display_name is None or entry.display_name == display_name
        ]


class DevAPI:
    """Callable mounted by ``VaultApp`` for paths under ``/_dev/``."""

    def __init__(self, state: State, *, faults: Faults, counters: Counters) -> None:
        self.state = state
        self.faults = faults
        self.counters = counters
        self._routes: dict[tuple[str, str], Callable[[_Json, Mapping[str, str]], _Json]] = {
            ("POST", "clock/advance"): self._advance,
            ("GET", "clock"): self._clock,
            ("POST", "faults"): self._add_fault,
            ("GET", "faults"): self._list_faults,
            ("DELETE", "faults"): self._clear_faults,
            ("GET", "counters"): self._counters,
            ("DELETE", "counters"): self._reset_counters,
            ("POST", "seal"): self._seal,
            ("POST", "unseal"): self._unseal,
            ("POST", "standby"): self._standby,
            ("DELETE", "standby"): self._active,
            ("POST", "ratelimit"): self._ratelimit,
            ("DELETE", "ratelimit"): self._ratelimit_off,
            ("GET", "tokens"): self._tokens,
            ("GET", "stats"): self._stats,
        }

    def __call__(self, environ: Mapping[str, Any], path: str) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        route = self._routes.get((method, path.removeprefix("/_dev/").strip("/")))
        if route is None:
            return error_response(ApiError(404))
        body = decode_json_body(read_body(environ, self.state.settings.max_request_size))
        try:
            document = route(body, parse_query(environ))
        except (TypeError, ValueError) as exc:
            return error_response(ApiError(400, str(exc)))
        headers = (("Cache-Control", "no-store"), ("Content-Type", "application/json"))
        return Response(200, headers, raw_body(document))

    def _advance(self, body: _Json, query: Mapping[str, str]) -> _Json:
        self.state.clock.advance(float(body["seconds"]))
        return self._clock(body, query)

    def _clock(self, body: _Json, query: Mapping[str, str]) -> _Json:
        return {"now": self.state.clock.now(), "offset": self.state.clock.offset}

    def _add_fault(self, body: _Json, query: Mapping[str, str]) -> _Json:
        allowed = {
            "kind",
            "path",
            "method",
            "status",
            "delay",
            "retry_after",
            "count",
            "skip",
            "message",
        }
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return {"id": self.faults.add(**body)}

    def _list_faults(self, body: _Json, query: Mapping[str, str]) -> _Json:
        return {"faults": [fault.to_json() for fault in self.faults.list()]}

    def _clear_faults(self, body: _Json, query: Mapping[str, str]) -> _Json:
        self.faults.clear()
        return {}

    def _counters(self, body: _Json, query: Mapping[str, str]) -> _Json:
        return {"counters": self.counters.snapshot(with_method=query.get("by") == "method")}

    def _reset_counters(self, body: _Json, query: Mapping[str, str]) -> _Json:
        self.counters.reset()
        return {}

    def _seal(self, body: _Json, query: Mapping[str, str]) -> _Json:
        self.state.modes.sealed = True
        return {"sealed": True}

    def _unseal(self, body: _Json, query: Mapping[str, str]) -> _Json:
        self.state.modes.sealed = False
        return {"sealed": False}

    def _standby(self, body: _Json, query: Mapping[str, str]) -> _Json:
        address = str(body["active_addr"]).rstrip("/")
        self.state.modes.standby_redirect = address
        return {"standby": True, "active_addr": address}

    def _active(self, body: _Json, query: Mapping[str, str]) -> _Json:
        self.state.modes.standby_redirect = None
        return {"standby": False}

    def _ratelimit(self, body: _Json, query: Mapping[str, str]) -> _Json:
        mode = RateLimitMode(
            retry_after=int(body.get("retry_after", 1)),
            limit=int(body.get("limit", 10)),
            headers=bool(body.get("headers", True)),
        )
        self.state.modes.ratelimit = mode
        return {"ratelimit": True}

    def _ratelimit_off(self, body: _Json, query: Mapping[str, str]) -> _Json:
        self.state.modes.ratelimit = None
        return {"ratelimit": False}

    def _tokens(self, body: _Json, query: Mapping[str, str]) -> _Json:
        return {"tokens": tokens_by_display_name(self.state, query.get("display_name"))}

    def _stats(self, body: _Json, query: Mapping[str, str]) -> _Json:
        with self.state.lock:
            self.state.tokens.reap(self.state.clock.now())
            return {"live_tokens": len(self.state.tokens)}
