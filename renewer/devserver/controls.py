"""Test controls real Vault lacks: faults, request counters, and the ``/_dev/`` API.

Faults are matched on the path after ``/v1/`` with a shell glob
(``fnmatch``: ``*`` also crosses ``/``) and optionally the HTTP method. Each
fault lets its first *skip* matching requests through, then fires for the
next *count* (None: until cleared); the first matching fault wins (``skip``
targets, say, the second ``lookup-self`` of a heal). What a client sees per
kind:

* ``latency``: the request is served normally after *delay* seconds;
* ``status``: a Vault-shaped error with *status* (default 500), optional
  ``Retry-After``; the error text is *message*, else one typical of the status
  (403: a policy denial's ``1 error occurred: permission denied``; pass
  ``message="permission denied"`` for a dead token's bare answer);
* ``sealed``: 503 ``Vault is sealed`` (hvac ``VaultDown``);
* ``ratelimit``: 429 ``request path "<p>": rate limit quota exceeded`` with
  ``Retry-After`` (hvac ``RateLimitExceeded``);
* ``reset``: the connection is dropped without a response (requests raises
  ``ConnectionError``);
* ``truncate``: the real response is served, but the body stops halfway
  under a full ``Content-Length`` and the connection closes (requests raises
  ``ChunkedEncodingError``, a ``RequestException``);
* ``nonjson``: an HTML page with *status* (default 200) and
  ``Content-Type: text/html``, like a proxy's error page;
* ``authnull``: a 200 whose JSON is Vault-shaped but empty (``"auth": null``,
  ``"data": null``), as a buggy proxy or plugin answers.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter
from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Any


class FaultKind(Enum):
    """What a fault does to the request it catches (see the module docstring)."""

    LATENCY = "latency"
    STATUS = "status"
    SEALED = "sealed"
    RATELIMIT = "ratelimit"
    RESET = "reset"
    TRUNCATE = "truncate"
    NONJSON = "nonjson"
    AUTHNULL = "authnull"


_DEFAULT_STATUS = {FaultKind.STATUS: 500, FaultKind.NONJSON: 200}


@dataclass(frozen=True, slots=True)
class Fault:
    """One armed fault. *remaining* None means it fires until cleared."""

    id: int
    kind: FaultKind
    path: str | None
    method: str | None
    status: int
    delay: float
    retry_after: int | None
    remaining: int | None
    skip: int = 0
    message: str | None = None

    def matches(self, path: str, method: str) -> bool:
        """Whether this fault catches a request for *path* (after ``/v1/``)."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)

    def to_json(self) -> dict[str, Any]:
        """The fault as the ``/_dev/faults`` API shows it."""
        document = asdict(self)
        document["kind"] = self.kind.value
        return document


class Faults:
    """The armed faults, in the order they were added. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(
        self,
        *,
        kind: str | FaultKind,
        path: str | None = None,
        method: str | None = None,
        status: int | None = None,
        delay: float = 0.0,
        retry_after: int | None = None,
        count: int | None = None,
        skip: int = 0,
        message: str | None = None,
    ) -> int:
        """Arm a fault; returns its id. *count* None: until ``clear``."""
        fault_kind = FaultKind(kind)
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for unlimited)")
        if skip < 0:
            raise ValueError("skip cannot be negative")
        with self._lock:
            fault = Fault(
                id=self._next_id,
                kind=fault_kind,
                path=path,
                method=method,
                status=status if status is not None else _DEFAULT_STATUS.get(fault_kind, 500),
                delay=float(delay),
                retry_after=retry_after,
                remaining=count,
                skip=int(skip),
                message=message,
            )
            self._next_id += 1
            self._faults.append(fault)
        return fault.id

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        """The armed faults (a copy)."""
        with self._lock:
            return list(self._faults)

    def take(self, path: str, method: str) -> Fault | None:
        """The first fault catching this request, spending one of its uses."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if not fault.matches(path, method):
                    continue
                if fault.skip > 0:
                    self._faults[index] = replace(fault, skip=fault.skip - 1)
                    continue
                if fault.remaining is not None:
                    left = fault.remaining - 1
                    if left <= 0:
                        del self._faults[index]
                    else:
                        self._faults[index] = replace(fault, remaining=left)
                return fault
        return None


class Counters:
    """Requests per path (after ``/v1/``) and per ``METHOD path``. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: Counter[str] = Counter()
        self._by_method: Counter[str] = Counter()

    def count(self, path: str, method: str) -> None:
        """Record one request."""
        with self._lock:
            self._by_path[path] += 1
            self._by_method[f"{method} {path}"] += 1

    def snapshot(self, *, with_method: bool = False) -> dict[str, int]:
        """Counts so far, keyed by path (or ``"METHOD path"``)."""
        with self._lock:
            return dict(self._by_method if with_method else self._by_path)

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._by_path.clear()
            self._by_method.clear()
