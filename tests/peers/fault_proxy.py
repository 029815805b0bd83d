"""A fault-injecting proxy in front of a real OpenBao: the dev server's ``/_dev/``, for real.

The integration tests drive faults, request counters, sealing and rate limits
through ``/_dev/`` (``renewer.devserver.dev_api``). In front of a real server
this proxy answers the same API, doing for real what a real server can do:

* **faults and counters** are applied here, with the dev server's own code
  (``renewer.devserver.replies.fault_response``, ``controls.Faults``), so a
  fault looks the same whichever server is behind it;
* **seal / unseal**: the real ``sys/seal``, and ``sys/unseal`` with the key the
  server printed when it started;
* **ratelimit**: a real rate-limit quota (``sys/quotas/rate-limit``) over every
  path, its response headers switched with ``sys/quotas/config``; the quota is
  spent once here so that the next request is refused, and it blocks for at
  least a minute (the real ``Retry-After`` counts that down);
* **standby**: a real standby that cannot forward answers 307 to the active
  node and 429 on ``sys/health``; the proxy answers so (a cluster is not
  something a test can start here);
* **tokens / stats**: ``LIST auth/token/accessors`` and ``lookup-accessor``
  with the root token;
* **clock**: the real time; moving it is refused (400): on a real server a
  clock test uses short TTLs and real waits.

The proxy's own calls to the server and every ``/_dev/`` request are never
counted and never faulted.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from renewer.devserver.app import ALWAYS_SERVED
from renewer.devserver.controls import Counters, FaultKind, Faults
from renewer.devserver.hosting import WaitressThread
from renewer.devserver.protocol import ApiError
from renewer.devserver.replies import Response, error_response, fault_response, send
from renewer.devserver.request import read_body, wsgi_path
from tests.peers.proxy_controls import ProxyControls

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class Upstream:
    """Kept-alive ``http.client`` connections to the real server, one per worker thread."""

    def __init__(self, addr: str) -> None:
        parts = urlsplit(addr)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._local = threading.local()
        self._opened: set[http.client.HTTPConnection] = set()  # every thread's, to close
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self._local.connection = connection
            with self._lock:
                self._opened.add(connection)
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
            with self._lock:
                self._opened.discard(connection)

    def forward(
        self, method: str, target: str, body: bytes, headers: Mapping[str, str]
    ) -> Response:
        """The server's answer to one request, as bytes to send back."""
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile
            try:
                connection = self._connection()
                connection.request(method, target, body=body or None, headers=dict(headers))
                answer = connection.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException):
                self._drop()
                if attempt == 2:
                    return error_response(ApiError(502, "the proxy cannot reach the server"))
                continue
            if answer.will_close:
                self._drop()
            kept = tuple(
                (name, value)
                for name, value in answer.getheaders()
                if name.lower() not in _HOP_BY_HOP
            )
            return Response(answer.status, kept, data)
        raise AssertionError("unreachable")


def _request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP_BY_HOP
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = str(environ["CONTENT_TYPE"])
    return headers


class FaultProxyApp:
    """The WSGI callable: ``/_dev/`` here, ``/v1/`` counted, faulted, then forwarded."""

    def __init__(self, upstream: Upstream, controls: ProxyControls) -> None:
        self.upstream = upstream
        self.controls = controls

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = wsgi_path(environ)
        if path.startswith("/_dev/"):
            response = self.controls(environ, path)
        elif path.startswith("/v1/"):
            response = self._vault(environ, path[len("/v1/") :])
        else:
            response = self._forward(environ)
        return send(response, environ, start_response)

    def _vault(self, environ: Mapping[str, Any], path: str) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        self.controls.counters.count(path, method)
        fault = self.controls.faults.take(path, method)
        if fault is not None and fault.kind is FaultKind.LATENCY:
            time.sleep(fault.delay)
        elif fault is not None and fault.kind is FaultKind.TRUNCATE:
            return replace(self._forward(environ), truncate=True)
        elif fault is not None:
            return fault_response(fault, path)
        active = self.controls.standby_redirect
        if active is not None and path not in ALWAYS_SERVED:
            query = str(environ.get("QUERY_STRING", ""))
            location = f"{active}/v1/{path}" + (f"?{query}" if query else "")
            return Response(307, (("Cache-Control", "no-store"), ("Location", location)))
        response = self._forward(environ)
        if active is not None and path == "sys/health":
            return _as_standby_health(response)
        return response

    def _forward(self, environ: Mapping[str, Any]) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        query = str(environ.get("QUERY_STRING", ""))
        target = str(environ.get("PATH_INFO", "")) + (f"?{query}" if query else "")
        try:
            body = read_body(environ, 64 * 1024 * 1024)
        except ApiError as error:
            return error_response(error)
        return self.upstream.forward(method, target, body, _request_headers(environ))


def _as_standby_health(response: Response) -> Response:
    """``sys/health`` as a standby answers it: 429 and ``standby: true``."""
    try:
        document = json.loads(response.body)
    except ValueError:
        return replace(response, status=429)
    document["standby"] = True
    return replace(response, status=429, body=json.dumps(document).encode())


class FaultProxy:
    """``with FaultProxy(addr, root_token, unseal_key) as proxy:`` → ``proxy.addr``."""

    def __init__(self, upstream_addr: str, root_token: str, unseal_key: str) -> None:
        self.faults = Faults()
        self.counters = Counters()
        self.controls = ProxyControls(
            upstream_addr, root_token, unseal_key, self.faults, self.counters
        )
        self.upstream = Upstream(upstream_addr)
        self.app = FaultProxyApp(self.upstream, self.controls)
        self._host = WaitressThread(
            self.app,
            name="fault-proxy",
            host="127.0.0.1",
            port=0,
            threads=8,
            ident="",
            max_request_body_size=64 * 1024 * 1024,
            connection_limit=1000,
            channel_timeout=60,
        )

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self._host.port}"

    def start(self) -> FaultProxy:
        self._host.start()
        return self

    def stop(self) -> None:
        if self._host.server is None:
            return
        self._host.stop()
        self.upstream.close()
        self.controls.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
