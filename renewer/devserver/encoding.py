"""Bytes on the wire, shaped like Vault's Go encoder writes them.

* ``json.Encoder``: compact, a trailing newline, map keys sorted, struct
  fields in declaration order, and ``<``, ``>``, ``&``, U+2028, U+2029
  escaped (Go's HTML-safe default).
* The envelope is ``logical.HTTPResponse`` (``sdk/logical/translate_response.go``)
  in field order; routes in ``injectDataIntoTopRoutes`` get their ``data``
  keys repeated before it (``HTTPSysInjector``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from renewer.devserver.protocol import Reply

_HTML_UNSAFE = ("<", ">", "&", "\u2028", "\u2029")


def _go_escape(text: str) -> str:
    """Go's encoder escapes these five even inside strings; JSON text has them nowhere else."""
    if any(char in text for char in _HTML_UNSAFE):
        text = (
            text.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )
    return text


def _sorted(value: Any) -> Any:
    """Maps with their keys sorted, recursively, as Go prints ``map`` values."""
    if isinstance(value, dict):
        return {
            key: _sorted(item) if isinstance(item, dict | list) else item
            for key, item in sorted(value.items())
        }
    if value and isinstance(value[0], dict | list):
        return [_sorted(item) for item in value]
    return value


def go_json(value: Any, *, sort_keys: bool = True) -> str:
    """One JSON value as Go's encoder prints it (no trailing newline)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    return _go_escape(text)


def error_body(messages: tuple[str, ...]) -> bytes:
    """``{"errors":[...]}`` plus the newline ``json.Encoder`` adds."""
    return (go_json({"errors": list(messages)}) + "\n").encode()


def raw_body(document: Mapping[str, Any]) -> bytes:
    """A bare JSON document whose key order is the Go struct's (e.g. health)."""
    return (go_json(dict(document), sort_keys=False) + "\n").encode()


def envelope_body(reply: Reply, *, mount_type: str) -> bytes:
    """The standard response envelope for a successful (or KV 404) reply.

    Built as one ordered dict and encoded in one call: struct fields keep
    their declared order, ``data`` (a Go map) is sorted beforehand.
    """
    data = _sorted(reply.data) if reply.data is not None else None
    envelope: dict[str, Any] = {}
    if reply.inject and data:
        envelope.update(data)
    envelope.update(
        {
            "request_id": str(uuid.uuid4()),
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": data,
            "wrap_info": None,
            "warnings": list(reply.warnings) if reply.warnings else None,
            "auth": reply.auth,
            "mount_type": mount_type,
        }
    )
    return (go_json(envelope, sort_keys=False) + "\n").encode()
