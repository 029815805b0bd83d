"""A small typed client for the dev server's ``/_dev/`` API (plain requests).

Tests that drive a dev server in another process, and the bench, use this;
in-process tests can call the ``DevServer`` methods directly instead.
"""

from __future__ import annotations

from typing import Any

import requests


class DevControlsError(RuntimeError):
    """The ``/_dev/`` API refused a call (or is not enabled: 404)."""


class DevControls:
    """Calls ``<addr>/_dev/...``; one ``requests.Session`` per client."""

    def __init__(self, addr: str, *, timeout: float = 10.0) -> None:
        self.addr = addr.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._session.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._session.request(
            method, f"{self.addr}/_dev/{path}", timeout=self.timeout, **kwargs
        )
        if response.status_code != 200:
            raise DevControlsError(f"{method} /_dev/{path}: {response.status_code} {response.text}")
        document: dict[str, Any] = response.json()
        return document

    def available(self) -> bool:
        """Whether this server has dev controls enabled."""
        try:
            self._call("GET", "clock")
        except (DevControlsError, requests.RequestException):
            return False
        return True

    def advance(self, seconds: float) -> float:
        """Move the virtual clock forward; returns the new virtual time."""
        return float(self._call("POST", "clock/advance", json={"seconds": seconds})["now"])

    def now(self) -> float:
        """The server's virtual time."""
        return float(self._call("GET", "clock")["now"])

    def add_fault(
        self,
        kind: str,
        *,
        path: str | None = None,
        method: str | None = None,
        status: int | None = None,
        delay: float = 0.0,
        retry_after: int | None = None,
        count: int | None = None,
        skip: int = 0,
        message: str | None = None,
    ) -> int:
        """Arm a fault (see ``renewer.devserver.controls``); returns its id."""
        body = {
            "message": message,
            "kind": kind,
            "path": path,
            "method": method,
            "status": status,
            "delay": delay,
            "retry_after": retry_after,
            "count": count,
            "skip": skip,
        }
        return int(self._call("POST", "faults", json=body)["id"])

    def faults(self) -> list[dict[str, Any]]:
        """The armed faults."""
        faults: list[dict[str, Any]] = self._call("GET", "faults")["faults"]
        return faults

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self._call("DELETE", "faults")

    def counters(self, *, with_method: bool = False) -> dict[str, int]:
        """Requests per path after ``/v1/`` (or per ``"METHOD path"``)."""
        params = {"by": "method"} if with_method else None
        counters: dict[str, int] = self._call("GET", "counters", params=params)["counters"]
        return counters

    def reset_counters(self) -> None:
        """Start counting from zero."""
        self._call("DELETE", "counters")

    def seal(self) -> None:
        """Seal the server."""
        self._call("POST", "seal")

    def unseal(self) -> None:
        """Unseal the server."""
        self._call("POST", "unseal")

    def standby(self, active_addr: str) -> None:
        """Act as a standby redirecting to *active_addr*."""
        self._call("POST", "standby", json={"active_addr": active_addr})

    def active(self) -> None:
        """Leave standby mode."""
        self._call("DELETE", "standby")

    def ratelimit(self, *, retry_after: int = 1, limit: int = 10, headers: bool = True) -> None:
        """Answer every request 429."""
        body = {"retry_after": retry_after, "limit": limit, "headers": headers}
        self._call("POST", "ratelimit", json=body)

    def clear_ratelimit(self) -> None:
        """Leave rate-limit mode."""
        self._call("DELETE", "ratelimit")

    def tokens(self, display_name: str | None = None) -> list[dict[str, Any]]:
        """Live tokens (without ids), optionally filtered by display name."""
        params = {"display_name": display_name} if display_name is not None else None
        tokens: list[dict[str, Any]] = self._call("GET", "tokens", params=params)["tokens"]
        return tokens

    def live_token_count(self) -> int:
        """Number of live tokens."""
        return int(self._call("GET", "stats")["live_tokens"])
