"""The JSONPath subset of a recipe's ``expect_json`` keys (seed 004 §4: "JSON path assertion").

Pure: path text in, steps out; steps and a document in, the selected nodes out.
A small subset of RFC 9535, enough to point at a value in an API's answer,
and nothing that evaluates code or scans the document:

* ``$`` is the answer itself;
* ``.name`` and ``['name']`` (or ``["name"]``, for names with dots or
  spaces) select a member of an object;
* ``[n]`` selects an element of a list; ``[-1]`` is the last;
* ``[*]`` and ``.*`` select every element of a list (every value of an
  object): an assertion through a wildcard must hold for each of them, and
  there must be at least one.

Rules, each pinned by a test: a path that does not parse is a
:class:`PathError` naming the position (recipes are checked when loaded, so
a typo is a file:line error, not a failed test); selection never raises:
a step that finds nothing reports where the path stopped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX = re.compile(r"-?(0|[1-9][0-9]*)")
WILDCARD = "*"


class PathError(ValueError):
    """The text is not a path of this subset (the message says where and why)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One selector: a member name, a list index, or the wildcard."""

    key: str | int

    def __str__(self) -> str:
        if self.key == WILDCARD:
            return "[*]"
        if isinstance(self.key, int):
            return f"[{self.key}]"
        return f".{self.key}" if _NAME.fullmatch(self.key) else f"['{self.key}']"


@dataclass(frozen=True, slots=True)
class Found:
    """A node the path selected, with its concrete location (``$.items[2].id``)."""

    location: str
    value: Any


@dataclass(frozen=True, slots=True)
class Missing:
    """Where selection stopped: the location reached and why it could not go on."""

    location: str
    reason: str


def parse_path(text: str) -> tuple[Step, ...]:
    """The steps of *text*; :class:`PathError` when it is not a path of the subset."""
    if not text.startswith("$"):
        raise PathError("a path starts with $")
    steps: list[Step] = []
    at = 1
    while at < len(text):
        step, at = _step(text, at)
        steps.append(step)
    return tuple(steps)


def _step(text: str, at: int) -> tuple[Step, int]:
    if text.startswith(".*", at):
        return Step(WILDCARD), at + 2
    if text[at] == ".":
        name = _NAME.match(text, at + 1)
        if name is None:
            raise PathError(f"expected a member name after '.' at position {at + 1}")
        return Step(name.group()), name.end()
    if text[at] != "[":
        raise PathError(f"expected '.' or '[' at position {at + 1}")
    close = text.find("]", at)
    if close == -1:
        raise PathError(f"'[' at position {at + 1} is not closed")
    inside = text[at + 1 : close]
    if inside == "*":
        return Step(WILDCARD), close + 1
    if _INDEX.fullmatch(inside):
        return Step(int(inside)), close + 1
    if len(inside) >= 2 and inside[0] == inside[-1] and inside[0] in "'\"":
        quoted = inside[1:-1]
        if quoted and inside[0] not in quoted:
            return Step(quoted), close + 1
    raise PathError(f"[{inside}] at position {at + 1} is not a name, an index or *")


def select(steps: tuple[Step, ...], document: Any) -> list[Found | Missing]:
    """Every node *steps* select in *document*, or where each branch stopped."""
    nodes: list[Found | Missing] = [Found("$", document)]
    for step in steps:
        following: list[Found | Missing] = []
        for node in nodes:
            following.extend([node] if isinstance(node, Missing) else _apply(step, node))
        nodes = following
    return nodes


def _apply(step: Step, node: Found) -> list[Found | Missing]:
    value, here = node.value, node.location
    if step.key == WILDCARD:
        if isinstance(value, list):
            children = [Found(f"{here}[{i}]", item) for i, item in enumerate(value)]
        elif isinstance(value, Mapping):
            children = [Found(f"{here}{Step(str(k))}", item) for k, item in value.items()]
        else:
            return [Missing(here, f"{json_kind(value)}, not a list or an object")]
        return list(children) or [Missing(f"{here}[*]", "no elements")]
    if isinstance(step.key, int):
        if not isinstance(value, list):
            return [Missing(here, f"{json_kind(value)}, not a list")]
        if not -len(value) <= step.key < len(value):
            return [Missing(f"{here}{step}", f"the list has {len(value)} element(s)")]
        return [Found(f"{here}{step}", value[step.key])]
    if not isinstance(value, Mapping):
        return [Missing(here, f"{json_kind(value)}, not an object")]
    if step.key not in value:
        return [Missing(f"{here}{step}", "missing")]
    return [Found(f"{here}{step}", value[step.key])]


def json_kind(value: Any) -> str:
    """A JSON value's kind in words ("an object", "a list", ...), never the value itself."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__
