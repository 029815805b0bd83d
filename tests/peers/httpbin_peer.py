"""httpbin (the real one, from PyPI) on 127.0.0.1, with a tap that keeps what each request carried.

httpbin answers as its public instance does: ``/anything`` echoes a request,
``/redirect-to?url=...&status_code=307`` redirects anywhere, and
``/digest-auth/auth/USER/PASSWD`` checks HTTP Digest authentication
(RFC 7616) with its own challenge. The tap in front of it records each
request's raw URL, headers and body, so a test can search them for a
secret; it changes nothing in the request.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tests.peers.serving import Served


@dataclass(frozen=True)
class Carried:
    """Everything one request brought, as text."""

    method: str
    target: str  # path and query string
    headers: str
    body: str

    def contains(self, value: str) -> bool:
        return any(value in part for part in (self.target, self.headers, self.body))


def _app() -> Callable[..., Any]:
    # httpbin logs a warning through Flask's logger on import when flasgger is
    # missing (it serves a static landing page instead); not ours to show.
    logging.getLogger("httpbin").setLevel(logging.ERROR)
    from httpbin import app

    app.logger.setLevel(logging.ERROR)
    return app  # type: ignore[no-any-return]


class HttpbinPeer:
    """httpbin served on ``url`` (``http://127.0.0.1:PORT``); ``carried`` lists what arrived."""

    def __init__(self) -> None:
        self.carried: list[Carried] = []
        self._lock = threading.Lock()
        self._app = _app()
        self._served = Served(self._tap)
        self.url = self._served.url

    def stop(self) -> None:
        self._served.stop()

    def _tap(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        query = environ.get("QUERY_STRING", "")
        headers = "\n".join(
            f"{key[5:]}: {value}" for key, value in environ.items() if key.startswith("HTTP_")
        )
        with self._lock:
            self.carried.append(
                Carried(
                    method=environ["REQUEST_METHOD"],
                    target=environ.get("PATH_INFO", "") + (f"?{query}" if query else ""),
                    headers=headers,
                    body=body.decode("utf-8", "replace"),
                )
            )
        return self._app(environ, start_response)  # type: ignore[no-any-return]

    def received(self, value: str) -> bool:
        """Whether any request that reached this server carried *value* anywhere."""
        with self._lock:
            return any(item.contains(value) for item in self.carried)
