"""Run the same requests on the dev server and on OpenBao; compare what they answer.

A scenario is a list of :class:`Step` (method, path, body, which token). Values
flow from one step to the next through names (``save={"child": "auth.client_token"}``,
then ``token="child"`` or ``"{child}"`` inside a body). Each answer is reduced
to what a client may rely on (:func:`normalize`): the status, the error texts,
the key sets, and the values that must match (policies, display names, flags,
TTLs within :data:`TTL_SLACK` seconds). Identifiers, times and key material
become placeholders that keep only their kind. What remains must be equal,
except for the differences ``tests/devserver/differences.py`` lists.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.devserver import differences
from tests.vaultpeer import VaultPeer

TTL_SLACK = 2  # seconds: the two servers answer a moment apart
_TTL_KEYS = frozenset(
    {"ttl", "lease_duration", "creation_ttl", "secret_id_ttl", "explicit_max_ttl", "period"}
)
_OPAQUE = frozenset(
    {
        "request_id",
        "id",
        "client_token",
        "accessor",
        "entity_id",
        "creation_time",
        "expire_time",
        "issue_time",
        "last_renewal",
        "last_renewal_time",
        "server_time_utc",
        "cluster_id",
        "cluster_name",
        "modified",
        "created_time",
        "updated_time",
        "deletion_time",
        "expiration_time",
        "last_updated_time",
        "secret_id",
        "secret_id_accessor",
        "role_id",
        "serial_number",
        "certificate",
        "issuing_ca",
        "ca_chain",
        "private_key",
        "expiration",
        "version",
        "policy",
        "rules",
        "uuid",
        "running_plugin_version",
    }
)
"""Values that differ by nature (ids, times, key material) or by server build (the
version string, the default policy's text): only their presence and type count."""


@dataclass(frozen=True)
class Step:
    """One request. *token*: ``"root"``, ``""`` (none) or a name saved by an earlier step."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None
    token: str = "root"
    save: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Answer:
    """One step's answer, reduced (see :func:`normalize`)."""

    status: int
    body: Any


def _lookup(document: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


_NAME = re.compile(r"\{(\w+)\}")


def _fill(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, str):  # {name} of a saved value; other braces (HCL, JSON) stay
        return _NAME.sub(lambda m: names.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill(item, names) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


def run(peer: VaultPeer, steps: Sequence[Step], *, run_id: str) -> list[Answer]:
    """Play *steps* on *peer*; names in paths and bodies get ``{run}`` = *run_id*."""
    names: dict[str, str] = {"run": run_id}
    tokens: dict[str, str] = {"root": peer.root_token, "": ""}
    answers = []
    for step in steps:
        token = tokens.get(step.token, names.get(step.token, step.token))
        response = peer.request(
            step.method,
            _fill(step.path, names),
            token=token,
            json=_fill(dict(step.body), names) if step.body is not None else None,
        )
        document = response.json() if response.content else None
        for name, dotted in step.save.items():
            try:
                names[name] = str(_lookup(document, dotted))
            except (KeyError, IndexError, TypeError, ValueError):
                names[name] = f"<unsaved {name}>"
            tokens.setdefault(name, names[name])
        answers.append(Answer(response.status_code, normalize(document)))
    return answers


def new_run_id() -> str:
    """Names unique to one execution of a scenario, the same on both servers."""
    return uuid.uuid4().hex[:10]


def _token_kind(value: str) -> str:
    for prefixes, kind in (
        (differences.SERVICE_TOKEN_PREFIXES, "<service-token>"),
        (differences.BATCH_TOKEN_PREFIXES, "<batch-token>"),
    ):
        if value.startswith(prefixes):
            return kind
    return "<token>" if value else ""


def _opaque(key: str, value: Any) -> Any:
    if value is None or value == "" or isinstance(value, bool):
        return value
    if key in {"client_token", "id"} and isinstance(value, str):
        return _token_kind(value)
    if isinstance(value, list):
        return [f"<{key}>" for _ in value]
    return f"<{key}:{type(value).__name__}>"


def normalize(document: Any, key: str = "") -> Any:
    """What a client may rely on: ids, times and key material become placeholders."""
    if isinstance(document, dict):
        return {k: normalize(v, k) for k, v in sorted(document.items())}
    if key in _OPAQUE:
        return _opaque(key, document)
    if isinstance(document, list):
        return [normalize(item) for item in document]
    if key in _TTL_KEYS and isinstance(document, int) and not isinstance(document, bool):
        return document  # compared within TTL_SLACK by differ()
    if isinstance(document, str):
        return re.sub(r"\b(?:hvs|hvb|s|b)\.[A-Za-z0-9_-]{10,}", "<token>", document)
    return document


def _ttl_close(left: Any, right: Any, key: str) -> bool:
    return (
        key in _TTL_KEYS
        and isinstance(left, int)
        and isinstance(right, int)
        and abs(left - right) <= TTL_SLACK
    )


_GO_DURATION = re.compile(r"\b(?=\d+(?:h|m(?!s)|s))(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?\b")


def _seconds(match: re.Match[str]) -> int:
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _texts_close(left: Any, right: Any) -> bool:
    """Two messages that differ only in Go durations within TTL_SLACK of each other.

    A capped renewal's warning names the remaining max TTL (``"1h"`` on one
    server, ``"59m59s"`` on the other when a second passed between the
    create and the renewal).
    """
    if not (isinstance(left, str) and isinstance(right, str)):
        return False
    if _GO_DURATION.sub("<d>", left) != _GO_DURATION.sub("<d>", right):
        return False
    pairs = zip(_GO_DURATION.finditer(left), _GO_DURATION.finditer(right), strict=True)
    return all(abs(_seconds(a) - _seconds(b)) <= TTL_SLACK for a, b in pairs)


def differ(dev: Any, real: Any, where: str = "") -> list[str]:
    """Where the dev server's reduced answer and OpenBao's differ (empty: they agree)."""
    key = where.rsplit(".", 1)[-1]
    if isinstance(dev, dict) and isinstance(real, dict):
        found = []
        for name in sorted(set(dev) | set(real)):
            path = f"{where}.{name}" if where else name
            if name not in real:
                found.append(f"{path}: only the dev server sends it ({dev[name]!r})")
            elif name not in dev:
                found.append(f"{path}: only OpenBao sends it ({real[name]!r})")
            else:
                found += differ(dev[name], real[name], path)
        return found
    if isinstance(dev, list) and isinstance(real, list) and len(dev) == len(real):
        return [
            problem
            for index, (left, right) in enumerate(zip(dev, real, strict=True))
            for problem in differ(left, right, f"{where}[{index}]")
        ]
    if dev == real or _ttl_close(dev, real, key) or _texts_close(dev, real):
        return []
    return [f"{where or 'body'}: dev server {dev!r} != OpenBao {real!r}"]


def compare(
    dev: Sequence[Answer], real: Sequence[Answer], *, allowed: Sequence[str] = ()
) -> list[str]:
    """Every difference between two transcripts not matched by an *allowed* pattern."""
    problems = []
    for index, (left, right) in enumerate(zip(dev, real, strict=True)):
        if left.status != right.status:
            problems.append(
                f"step {index}: status {left.status} != {right.status}"
                f" (dev {left.body!r}, OpenBao {right.body!r})"
            )
            continue
        problems += [f"step {index}: {p}" for p in differ(left.body, right.body)]
    return [p for p in problems if not any(re.search(pattern, p) for pattern in allowed)]
