"""From a WSGI ``environ`` to the parts of a Vault request (``http/logical.go``).

The HTTP parsing itself is waitress's; this module only interprets what it
hands over, the way Vault's ``buildLogicalRequestNoAuth`` does:

* method → operation: GET read (``?list=true`` → list), LIST list, POST/PUT
  update, DELETE delete, PATCH patch (only with the merge-patch content type,
  else 415), HEAD read; anything else 405 with ``{"errors":[]}``;
* a list operation gets a trailing ``/`` on its path;
* GET/LIST/DELETE take their data from the query string, the others from a
  JSON (or form) body; an unparseable body is 400 ``error parsing JSON``, one
  over the size cap 413. Invalid UTF-8 becomes U+FFFD, as Go's decoder does;
* the token comes from ``X-Vault-Token``, else ``Authorization: Bearer``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from renewer.devserver.protocol import ApiError, Operation

_OPERATIONS = {
    "GET": Operation.READ,
    "HEAD": Operation.READ,
    "LIST": Operation.LIST,
    "POST": Operation.UPDATE,
    "PUT": Operation.UPDATE,
    "DELETE": Operation.DELETE,
    "PATCH": Operation.PATCH,
}
# Go's strconv.ParseBool, exactly: other spellings ("yes", "tRUE") are errors.
_PARSE_BOOL = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True, slots=True)
class Incoming:
    """A parsed request: *path* is after ``/v1/`` (``/`` appended for LIST)."""

    method: str
    path: str
    operation: Operation
    query: Mapping[str, str]
    data: Mapping[str, Any]
    token_id: str


def wsgi_path(environ: Mapping[str, Any]) -> str:
    """``PATH_INFO`` as text: WSGI hands bytes over as latin-1, Vault reads UTF-8."""
    raw = str(environ.get("PATH_INFO", ""))
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


def parse_query(environ: Mapping[str, Any]) -> dict[str, str]:
    """The query string, first value per key."""
    raw = str(environ.get("QUERY_STRING", "")).encode("latin-1", "replace").decode()
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True, errors="replace"):
        query.setdefault(key, value)
    return query


def token_from(environ: Mapping[str, Any]) -> str:
    """``X-Vault-Token``, else an ``Authorization: Bearer`` token, else ``""``."""
    token = str(environ.get("HTTP_X_VAULT_TOKEN", "")).strip()
    if token:
        return token
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _operation(method: str, query: Mapping[str, str]) -> Operation:
    operation = _OPERATIONS.get(method)
    if operation is None:
        raise ApiError(405)
    if method == "GET" and query.get("list", "") != "":
        flag = _PARSE_BOOL.get(query["list"])
        if flag is None:
            raise ApiError(400)
        if flag:
            operation = Operation.LIST
    return operation


def read_body(environ: Mapping[str, Any], max_size: int) -> bytes:
    """The request body, refused with Vault's 413 past *max_size*."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, "error parsing JSON") from None
    if length > max_size:
        raise ApiError(413, "error parsing JSON")
    if length <= 0:
        return b""
    body: bytes = environ["wsgi.input"].read(length)
    return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_json_body(body: bytes) -> dict[str, Any]:
    """A JSON object body (empty or ``null`` → ``{}``); anything else is a 400."""
    if not body.strip():
        return {}
    try:
        decoded = json.loads(body.decode("utf-8", "replace"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "error parsing JSON") from None
    if decoded is None:
        return {}
    if not isinstance(decoded, dict):
        raise ApiError(400, "error parsing JSON")
    return decoded


def _body_data(environ: Mapping[str, Any], method: str, max_size: int) -> dict[str, Any]:
    content_type = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
    if method == "PATCH" and content_type != MERGE_PATCH:
        raise ApiError(
            415, f"PATCH requires Content-Type of {MERGE_PATCH}, provided {content_type!r}"
        )
    body = read_body(environ, max_size)
    if content_type == "application/x-www-form-urlencoded":
        text = body.decode("utf-8", "replace")
        return dict(parse_qsl(text, keep_blank_values=True))
    return decode_json_body(body)


def parse(environ: Mapping[str, Any], *, path: str, max_size: int) -> Incoming:
    """Interpret one request for *path* (already stripped of ``/v1/``)."""
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    query = parse_query(environ)
    operation = _operation(method, query)
    if operation is Operation.LIST and not path.endswith("/"):
        path += "/"
    if method in ("GET", "HEAD", "LIST", "DELETE"):
        read_body(environ, max_size)  # drained so keep-alive stays in sync; Vault ignores it
        data: dict[str, Any] = {k: v for k, v in query.items() if k != "list"}
    else:
        data = _body_data(environ, method, max_size)
    return Incoming(
        method=method,
        path=path,
        operation=operation,
        query=query,
        data=data,
        token_id=token_from(environ),
    )
