"""YAML documents that remember the line of every value.

Configuration and recipes are YAML written by hand, so a mistake must be
reported as ``config.yaml:14: tokens[0].policies: expected a list`` rather
than as a traceback or a bare jsonschema message. This module loads YAML with
PyYAML (keeping each node's line) and refuses what PyYAML silently accepts but
a person never means (duplicate keys, unknown tags); ``yamlschema`` validates
the result against a JSON Schema, translating each error to one line.

A file under ``~/.config/renewer/recipes/`` may come from anyone, so reading
one is bounded whatever it holds (issue 20): at most ``MAX_DOCUMENT_BYTES`` of
text, at most ``MAX_VALUES`` values *after* aliases are expanded (nine nested
``&a [*a ×9]`` anchors are a few hundred bytes that expand to 387 million
values: the alias bomb), and no alias may contain itself. PyYAML's composer
shares one node per anchor, so counting is cheap and the bomb is refused
before it grows.

The error class is a parameter so the same code reports ``ConfigError`` for
the config and ``RecipeError`` for recipes (both exit 78).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from renewer.errors import ConfigInvalid

PathPart = str | int
YamlPath = tuple[PathPart, ...]

APPEND_TAG = "!append"
MAX_DOCUMENT_BYTES = 1 << 20
# The largest config seen in use has a few hundred values; a built-in recipe
# about fifty. 100k leaves room for generated files and keeps the worst case
# to a fraction of a second.
MAX_VALUES = 100_000

try:  # the C loader is 5-10x faster; it is optional in PyYAML builds
    _ComposeLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _ComposeLoader = yaml.SafeLoader


class Append(list[Any]):
    """A sequence tagged ``!append``: ``extends`` adds it to the parent's list, not replaces."""


@dataclass(frozen=True, slots=True)
class Document:
    """Parsed YAML plus the line each value starts on (1-based)."""

    source: str
    data: Any
    lines: Mapping[YamlPath, int] = field(repr=False)
    text: str = field(default="", repr=False, compare=False)  # as read, for digests

    def line(self, path: Sequence[PathPart]) -> int | None:
        """The line of *path*, or of its nearest ancestor that has one."""
        key = tuple(path)
        while True:
            if key in self.lines:
                return self.lines[key]
            if not key:
                return None
            key = key[:-1]

    def where(self, path: Sequence[PathPart]) -> str:
        """``file:line: dotted.path`` for messages."""
        line = self.line(path)
        location = f"{self.source}:{line}" if line else self.source
        dotted = dotted_path(path)
        return f"{location}: {dotted}" if dotted else location


def dotted_path(path: Sequence[PathPart]) -> str:
    """``("tokens", 0, "policies")`` → ``tokens[0].policies``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def load_file(path: Path, *, error: type[ConfigInvalid]) -> Document:
    """Read and parse *path*; unreadable or malformed files raise *error*."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected a YAML file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise error(f"{path}: larger than {MAX_DOCUMENT_BYTES} bytes; not a config file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return load_text(text, source=str(path), error=error)


def load_text(text: str, *, source: str, error: type[ConfigInvalid]) -> Document:
    """Parse one YAML document from *text*, keeping lines; errors raise *error*."""
    try:
        node = yaml.compose(text, Loader=_ComposeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or "invalid YAML"
        raise error(f"{source}{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise error(f"{source}: invalid YAML: {exc}") from None
    lines: dict[YamlPath, int] = {}
    data = None if node is None else _Converter(source, lines, error).convert(node, ())
    return Document(source=source, data=data, lines=lines, text=text)


class _Converter:
    """Node tree → plain Python values, recording each value's line."""

    def __init__(self, source: str, lines: dict[YamlPath, int], error: type[ConfigInvalid]) -> None:
        self._source = source
        self._lines = lines
        self._error = error
        self._scalars = yaml.SafeLoader("")
        self._left = MAX_VALUES
        self._open: set[int] = set()  # ids of collection nodes being converted (cycles)

    def _fail(self, node: yaml.Node, path: YamlPath, problem: str) -> ConfigInvalid:
        where = f"{self._source}:{node.start_mark.line + 1}"
        dotted = dotted_path(path)
        return self._error(f"{where}: {dotted}: {problem}" if dotted else f"{where}: {problem}")

    def convert(self, node: yaml.Node, path: YamlPath) -> Any:
        self._lines[path] = node.start_mark.line + 1
        self._left -= 1
        if self._left < 0:
            raise self._fail(
                node,
                path,
                f"more than {MAX_VALUES} values once aliases (*name) are expanded "
                "(an alias bomb?); write the values out instead",
            )
        if node.tag == APPEND_TAG and not isinstance(node, yaml.SequenceNode):
            raise self._fail(
                node,
                path,
                f"{APPEND_TAG} marks a list (its items go after the parent's); "
                + (
                    "a mapping is always merged with the parent's key by key: drop the tag"
                    if isinstance(node, yaml.MappingNode)
                    else "this value is not a list"
                ),
            )
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if node.tag.startswith("!"):
                raise self._fail(node, path, f"unknown tag {node.tag}")
            return self._scalar(node, path)
        if id(node) in self._open:
            raise self._fail(node, path, "an alias (*name) refers to a value that contains it")
        self._open.add(id(node))
        try:
            return self._collection(node, path)
        finally:
            self._open.discard(id(node))

    def _collection(self, node: yaml.MappingNode | yaml.SequenceNode, path: YamlPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            if node.tag.startswith("!"):
                raise self._fail(node, path, f"unknown tag {node.tag}")
            return self._mapping(node, path)
        items = [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        if node.tag == APPEND_TAG:
            return Append(items)
        if node.tag.startswith("!"):
            raise self._fail(node, path, f"unknown tag {node.tag}")
        return items

    def _scalar(self, node: yaml.Node, path: YamlPath) -> Any:
        try:
            return self._scalars.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "cannot read this value"
            raise self._fail(node, path, problem) from None
        except (ValueError, OverflowError) as exc:
            # A 5000-digit number, a timestamp in month 13: PyYAML's resolver
            # says "int"/"timestamp" and Python's constructor then refuses it.
            raise self._fail(node, path, f"cannot read this value ({exc})") from None

    def _mapping(self, node: yaml.MappingNode, path: YamlPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self._fail(key_node, path, "YAML merge keys (<<) are not supported")
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, path, "a key must be a plain string")
            key = str(self._scalar(key_node, path))
            if key in result:
                raise self._fail(key_node, (*path, key), "duplicate key")
            result[key] = self.convert(value_node, (*path, key))
            # People look for the key, not for where a nested value starts.
            self._lines[(*path, key)] = key_node.start_mark.line + 1
        return result
