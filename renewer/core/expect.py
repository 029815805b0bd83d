"""Does a service's answer meet a recipe's ``test`` expectations?

Pure: the status code and the parsed JSON body are arguments.
Design: seed 004 §4 (``test: expect_status, expect_json``), product.md §3.

Rules, each pinned by a test:

* ``expect_status`` given → the status must equal it; not given → any 2xx;
* ``expect_json`` given → the body must be JSON and contain it: every key of
  an expected object must be present with a matching value (objects match
  recursively, so extra keys in the answer are fine); lists and scalars must
  be equal (``1`` does not match ``true``, nor ``"1"``);
* a top-level ``expect_json`` key that starts with ``$`` is a JSON path
  (:mod:`renewer.core.jsonpath`: ``$.data[0].id``, ``$.items[*].active``)
  and its value is matched by the same rules against each node it selects;
  through a wildcard every node must match and there must be one; any other
  key is a member name, as above (``ok: true`` is the seed's Slack example);
* problems are returned, not raised, in a stable order, and never quote a
  string from the answer: a service may echo something private, so a
  mismatch says "a different string" instead;
* :func:`blame` says whose a failure most likely is: the **credential**'s
  when the service refused it (401 or 403, unless the test expects that
  status) or there was no HTTP answer at all (a TLS refusal of a client
  certificate); otherwise the **recipe**'s: the service took the credential
  and answered something the test does not expect (a 404, another status,
  a JSON mismatch), so storing the secret again would not help.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from renewer.core.jsonpath import Missing, PathError, json_kind, parse_path, select

NOT_JSON: Any = object()  # the body was not JSON (pass as *body*)
CREDENTIAL = "credential"
RECIPE = "recipe"
_REFUSALS = frozenset({401, 403})


def check_answer(
    *,
    status: int,
    body: Any,
    expect_status: int | None = None,
    expect_json: Mapping[str, Any] | None = None,
) -> tuple[str, ...]:
    """The problems with an answer of *status* and parsed *body*; empty when it passes."""
    problems: list[str] = []
    if expect_status is not None:
        if status != expect_status:
            problems.append(f"expected HTTP {expect_status}, got HTTP {status}")
    elif not 200 <= status < 300:
        problems.append(f"expected a 2xx answer, got HTTP {status}")
    if expect_json is not None:
        if body is NOT_JSON:
            problems.append("expected a JSON body, got something else")
        else:
            members = {k: v for k, v in expect_json.items() if not str(k).startswith("$")}
            if members:
                problems.extend(_compare(members, body, "body"))
            for path, expected in expect_json.items():
                if str(path).startswith("$"):
                    problems.extend(_check_path(str(path), expected, body))
    return tuple(problems)


def _check_path(path: str, expected: Any, body: Any) -> list[str]:
    try:
        steps = parse_path(path)
    except PathError as exc:
        return [f"{path}: not a usable JSON path ({exc})"]
    problems: list[str] = []
    for node in select(steps, body):
        if isinstance(node, Missing):
            problems.append(f"{node.location}: {node.reason}")
        else:
            problems.extend(_compare(expected, node.value, node.location))
    return problems


def blame(status: int | None, *, expect_status: int | None = None) -> str:
    """:data:`CREDENTIAL` or :data:`RECIPE`, by the rules in the module docstring."""
    if status is None:
        return CREDENTIAL
    if status in _REFUSALS and status != expect_status:
        return CREDENTIAL
    return RECIPE


def _compare(expected: Any, actual: Any, where: str) -> list[str]:
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{where}: expected an object, got {json_kind(actual)}"]
        problems: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems.extend(_compare(value, actual[key], f"{where}.{key}"))
        return problems
    if _same(expected, actual):
        return []
    return [f"{where}: expected {_show(expected)}, got {_show_actual(actual)}"]


def _same(expected: Any, actual: Any) -> bool:
    """JSON equality: ``1 == 1.0``, but ``True`` is not ``1`` (as Python would say)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            _same(e, a) for e, a in zip(expected, actual, strict=True)
        )
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return expected.keys() == actual.keys() and all(
            _same(value, actual[key]) for key, value in expected.items()
        )
    return type(expected) is type(actual) and bool(expected == actual)


def _show(value: Any) -> str:
    """Render an expected value (from the recipe: not private)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return str(value)
    return json_kind(value)


def _show_actual(value: Any) -> str:
    """Render a value from the answer without quoting any string from it."""
    if isinstance(value, str):
        return "a different string"
    if value is None or isinstance(value, bool | int | float):
        return _show(value)
    return json_kind(value)
