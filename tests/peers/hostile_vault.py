"""A hostile Vault impostor on 127.0.0.1: answers each path with whatever a test scripts.

Test peer (not a mock of renewer): renewer talks to it over real HTTP with
its real client, the way it would talk to a broken proxy or a compromised
server. A test sets :meth:`HostileVault.answer` for a path after ``/v1/``:
a status, headers and a body, where the body may be

* bytes or a JSON-able value (wrong types, missing fields, ``auth: null``...);
* ``size=N``: N bytes of a JSON string, streamed without being held in
  memory here, with or without a ``Content-Length`` (chunked);
* ``trickle=S``: the headers, then one byte every S seconds, forever (a
  slow-loris answer that never breaks any single read timeout);
* a redirect to another host (``Location``), for which the test starts a
  second instance that records whether a token arrived.

Every request is recorded without values: method, path, whether an
``X-Vault-Token`` header came along, and how many body bytes were sent back
before the client went away.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.peers.serving import Served

_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    size: int = 0  # stream this many bytes instead of *body*
    content_length: bool = True
    trickle: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    had_token: bool
    sent: int = 0


@dataclass
class HostileVault:
    """The impostor; ``url`` is its base address."""

    answers: dict[str, Answer] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._served = Served(self._app)
        self.url = self._served.url

    def stop(self) -> None:
        self._served.stop()

    def answer(
        self,
        path: str,
        body: Any = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        size: int = 0,
        content_length: bool = True,
        trickle: float = 0.0,
    ) -> None:
        """Script the answer to ``/v1/<path>`` (any method)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        merged = {"Content-Type": "application/json", **(headers or {})}
        self.answers[path] = Answer(
            status, raw, tuple(merged.items()), size, content_length, trickle
        )

    def sent_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", "")).removeprefix("/v1/")
        seen = Seen(
            str(environ.get("REQUEST_METHOD")), path, bool(environ.get("HTTP_X_VAULT_TOKEN"))
        )
        with self._lock:
            self.seen.append(seen)
        answer = self.answers.get(path, Answer(404, b'{"errors":[]}'))
        headers = list(answer.headers)
        length = answer.size or len(answer.body)
        if answer.content_length and not answer.trickle:
            headers.append(("Content-Length", str(length)))
        start_response(f"{answer.status} X", headers)
        if answer.trickle:
            return self._trickle(answer.trickle, seen)
        if answer.size:
            return self._stream(answer.size, seen)
        seen.sent = len(answer.body)
        return [answer.body]

    @staticmethod
    def _stream(size: int, seen: Seen) -> Iterator[bytes]:
        yield b'"'
        left = size - 2
        while left > 0:
            chunk = b"x" * min(_CHUNK, left)
            left -= len(chunk)
            seen.sent += len(chunk)
            yield chunk
        yield b'"'

    @staticmethod
    def _trickle(every: float, seen: Seen) -> Iterator[bytes]:
        for _ in range(10_000):
            yield b" "
            seen.sent += 1
            time.sleep(every)
