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

_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def go_json(value: Any, *, sort_keys: bool = True) -> str:
    """One JSON value as Go's encoder prints it (no trailing newline)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    return text.translate(_GO_ESCAPES)


def error_body(messages: tuple[str, ...]) -> bytes:
    """``{"errors":[...]}`` plus the newline ``json.Encoder`` adds."""
    return (go_json({"errors": list(messages)}) + "\n").encode()


def raw_body(document: Mapping[str, Any]) -> bytes:
    """A bare JSON document whose key order is the Go struct's (e.g. health)."""
    return (go_json(dict(document), sort_keys=False) + "\n").encode()


def envelope_body(reply: Reply, *, mount_type: str) -> bytes:
    """The standard response envelope for a successful (or KV 404) reply."""
    parts = [
        f'"request_id":{go_json(str(uuid.uuid4()))}',
        '"lease_id":""',
        '"renewable":false',
        '"lease_duration":0',
        f'"data":{go_json(reply.data)}',
        '"wrap_info":null',
        f'"warnings":{go_json(list(reply.warnings)) if reply.warnings else "null"}',
        f'"auth":{go_json(reply.auth, sort_keys=False)}',
        f'"mount_type":{go_json(mount_type)}',
    ]
    if reply.inject and reply.data:
        injected = [f"{go_json(key)}:{go_json(reply.data[key])}" for key in sorted(reply.data)]
        parts = injected + parts
    return ("{" + ",".join(parts) + "}\n").encode()
