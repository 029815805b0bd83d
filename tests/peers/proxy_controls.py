"""The fault proxy's ``/_dev/`` API over a real server (see ``fault_proxy.py``).

Faults and counters live in the proxy; seal, unseal, the rate limit, tokens and
stats are done to the real server, with its root token and the unseal key it
printed when it started.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from renewer.devserver.controls import Counters, Faults
from renewer.devserver.protocol import ApiError
from renewer.devserver.replies import Response, error_response
from renewer.devserver.request import decode_json_body, parse_query, read_body

_QUOTA = "renewer-test-ratelimit"
_MIN_BLOCK = 60  # seconds a spent quota refuses requests: longer than any test step
_Json = dict[str, Any]


class ProxyControls:
    """``/_dev/`` over a real server (see the module docstring)."""

    def __init__(
        self, addr: str, root_token: str, unseal_key: str, faults: Faults, counters: Counters
    ) -> None:
        self.addr = addr
        self.faults = faults
        self.counters = counters
        self.standby_redirect: str | None = None
        self._root = {"X-Vault-Token": root_token}
        self._unseal_key = unseal_key
        self._sealed = False
        self._ratelimited = False
        self._session = requests.Session()
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

    def close(self) -> None:
        self._session.close()

    def __call__(self, environ: Mapping[str, Any], path: str) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        route = self._routes.get((method, path.removeprefix("/_dev/").strip("/")))
        if route is None:
            return error_response(ApiError(404))
        try:
            body = decode_json_body(read_body(environ, 1 << 20))
            document = route(body, parse_query(environ))
        except ApiError as error:
            return error_response(error)
        except (TypeError, ValueError, KeyError) as exc:
            return error_response(ApiError(400, str(exc)))
        headers = (("Cache-Control", "no-store"), ("Content-Type", "application/json"))
        return Response(200, headers, json.dumps(document).encode())

    # -- the real server, as root -------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self._session.request(
            method, f"{self.addr}/v1/{path}", headers=self._root, timeout=30, **kwargs
        )

    def _ok(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._call(method, path, **kwargs)
        if response.status_code not in {200, 204}:
            raise ApiError(502, f"{method} {path}: {response.status_code} {response.text}")
        return response

    # -- routes -------------------------------------------------------------------------

    def _advance(self, body: _Json, query: Mapping[str, str]) -> _Json:
        raise ApiError(400, "a real server's clock cannot be moved: use short TTLs and real waits")

    def _clock(self, body: _Json, query: Mapping[str, str]) -> _Json:
        return {"now": time.time(), "offset": 0.0, "virtual": False}

    def _add_fault(self, body: _Json, query: Mapping[str, str]) -> _Json:
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
        self._ok("PUT", "sys/seal")
        self._sealed = True
        return {"sealed": True}

    def _unseal(self, body: _Json, query: Mapping[str, str]) -> _Json:
        if not self._sealed:
            return {"sealed": False}
        self._ok("PUT", "sys/unseal", json={"key": self._unseal_key})
        deadline = time.monotonic() + 30
        while self._call("GET", "sys/health").status_code != 200:
            if time.monotonic() > deadline:
                raise ApiError(502, "the server did not become active after unsealing")
            time.sleep(0.05)
        self._sealed = False
        return {"sealed": False}

    def _standby(self, body: _Json, query: Mapping[str, str]) -> _Json:
        self.standby_redirect = str(body["active_addr"]).rstrip("/")
        return {"standby": True, "active_addr": self.standby_redirect}

    def _active(self, body: _Json, query: Mapping[str, str]) -> _Json:
        self.standby_redirect = None
        return {"standby": False}

    def _ratelimit(self, body: _Json, query: Mapping[str, str]) -> _Json:
        config = self._ok("GET", "sys/quotas/config").json()["data"]
        exempt = sorted({*(config.get("rate_limit_exempt_paths") or []), "sys/quotas/"})
        self._ok(
            "POST",
            "sys/quotas/config",
            json={
                "enable_rate_limit_response_headers": bool(body.get("headers", True)),
                "rate_limit_exempt_paths": exempt,
            },
        )
        block = max(int(body.get("retry_after", 1)), _MIN_BLOCK)
        rate = max(int(body.get("limit", 10)), 1)
        self._ok(
            "POST",
            f"sys/quotas/rate-limit/{_QUOTA}",
            json={"rate": rate, "interval": "1m", "block_interval": f"{block}s"},
        )
        self._ratelimited = True
        for _ in range(rate + 2):  # spend the allowance: the next request is refused
            if self._call("GET", "auth/token/lookup-self").status_code == 429:
                break
        return {"ratelimit": True}

    def _ratelimit_off(self, body: _Json, query: Mapping[str, str]) -> _Json:
        if self._ratelimited:
            self._ok("DELETE", f"sys/quotas/rate-limit/{_QUOTA}")
            self._ratelimited = False
        return {"ratelimit": False}

    def _accessors(self) -> list[str]:
        response = self._call("LIST", "auth/token/accessors")
        if response.status_code == 404:
            return []
        keys: list[str] = response.json()["data"]["keys"]
        return keys

    def _tokens(self, body: _Json, query: Mapping[str, str]) -> _Json:
        wanted = query.get("display_name")
        found = []
        for accessor in self._accessors():
            response = self._call("POST", "auth/token/lookup-accessor", json={"accessor": accessor})
            if response.status_code != 200:
                continue  # gone between the LIST and the lookup
            data = response.json()["data"]
            if wanted is None or data["display_name"] == wanted:
                found.append(_summary(data))
        return {"tokens": found}

    def _stats(self, body: _Json, query: Mapping[str, str]) -> _Json:
        return {"live_tokens": len(self._accessors())}


def _summary(data: Mapping[str, Any]) -> _Json:
    """The dev server's ``token_summary`` fields, from a real ``lookup-accessor``."""
    return {
        "accessor": data["accessor"],
        "display_name": data["display_name"],
        "policies": list(data.get("policies") or []),
        "path": data.get("path", ""),
        "meta": data.get("meta"),
        "orphan": bool(data.get("orphan")),
        "type": data.get("type", "service"),
        "ttl": int(data.get("ttl") or 0),
        "period": int(data.get("period") or 0),
        "explicit_max_ttl": int(data.get("explicit_max_ttl") or 0),
        "num_uses": int(data.get("num_uses") or 0),
        "creation_time": int(data.get("creation_time") or 0),
    }
