"""Responses as bytes: Vault's envelopes, the faults the test controls inject, WSGI output.

Shared by the dev server (``app.py``) and by the fault-injecting proxy the
tests put in front of a real OpenBao (``tests/peers/fault_proxy.py``), so a
fault looks the same to a client whichever server is behind it.
"""

from __future__ import annotations

import http
import socket
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from renewer.devserver.controls import Fault, FaultKind
from renewer.devserver.encoding import envelope_body, error_body, raw_body
from renewer.devserver.protocol import ApiError, Reply, multierror

StartResponse = Callable[..., Any]

_FAULT_MESSAGES = {
    # A live token refused by a policy: the shape every Vault and OpenBao gives it
    # (a dead token's bare "permission denied" is asked for with message=...).
    403: multierror("permission denied"),
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
    return Response(reply.status, (*_JSON_HEADERS, *reply.headers.items()), body)


def rate_limited(path: str, retry_after: int, *, headers: bool, limit: int = 10) -> ApiError:
    """Vault's 429 for a rate-limit quota (``X-Ratelimit-*`` only when enabled)."""
    extra = {}
    if headers:
        extra = {
            "Retry-After": str(retry_after),
            "X-Ratelimit-Limit": str(limit),
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": str(retry_after),
        }
    return ApiError(429, f'request path "{path}": rate limit quota exceeded', headers=extra)


def fault_response(fault: Fault, path: str) -> Response:
    """What an armed fault answers instead of the server (not latency or truncate)."""
    retry = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if fault.kind is FaultKind.STATUS:
        message = fault.message or _FAULT_MESSAGES.get(fault.status, "injected fault")
        return error_response(ApiError(fault.status, message, headers=retry))
    if fault.kind is FaultKind.SEALED:
        return error_response(ApiError(503, "Vault is sealed", headers=retry))
    if fault.kind is FaultKind.RATELIMIT:
        return error_response(rate_limited(path, fault.retry_after or 1, headers=True))
    if fault.kind is FaultKind.RESET:
        return Response(500, (), reset=True)
    if fault.kind is FaultKind.AUTHNULL:
        return Response(200, _JSON_HEADERS, _AUTH_NULL)
    headers = (("Cache-Control", "no-store"), ("Content-Type", "text/html"))
    return Response(fault.status, headers, _HTML)


def status_line(status: int) -> str:
    """``"404 Not Found"``; unknown codes get ``Unknown``."""
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def drop_connection(environ: Mapping[str, Any]) -> None:
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


def send(
    response: Response, environ: Mapping[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Hand *response* to the WSGI server, applying ``reset`` and ``truncate``."""
    if response.reset:
        drop_connection(environ)
    headers = list(response.headers)
    if response.status != 204:
        headers.append(("Content-Length", str(len(response.body))))
    start_response(status_line(response.status), headers)
    if response.truncate:
        return [response.body[: len(response.body) // 2]]
    if environ.get("REQUEST_METHOD") == "HEAD":
        return [b""]
    return [response.body]
