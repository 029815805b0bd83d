"""The subset of HCL that Vault ACL policies are written in.

Pure: text in, nested Python values out. What is covered is what policies use:
``key = value`` attributes, labelled blocks (``path "secret/*" { ... }``),
strings, numbers, booleans, lists and nested objects (``allowed_parameters``),
and ``#``, ``//`` and ``/* */`` comments. Heredocs and interpolation are not
policy syntax and are refused.

A block ``path "a" { ... }`` becomes ``{"path": [("a", {...})]}``: blocks keep
their order and repeat, which the policy parser needs to merge duplicates the
way Vault does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

HclValue = str | int | float | bool | list["HclValue"] | dict[str, "HclValue"] | None
HclBody = dict[str, object]


class HclError(ValueError):
    """Unparseable policy text; the message names the line."""


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.-]*)
  | (?P<punct>[{}\[\]=,:])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    line: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    line = 1
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise HclError(f"At {line}:{position}: illegal char {text[position]!r}")
        kind = match.lastgroup or ""
        if kind not in ("ws", "comment"):
            tokens.append(_Token(kind, match.group(), line))
        line += match.group().count("\n")
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._index = 0

    def _peek(self) -> _Token | None:
        return self._tokens[self._index] if self._index < len(self._tokens) else None

    def _next(self, what: str) -> _Token:
        token = self._peek()
        if token is None:
            raise HclError(f"unexpected end of input, expected {what}")
        self._index += 1
        return token

    def _expect(self, text: str) -> None:
        token = self._next(repr(text))
        if token.text != text:
            raise HclError(f"At line {token.line}: expected {text!r}, got {token.text!r}")

    def body(self, closing: str | None) -> HclBody:
        result: HclBody = {}
        while True:
            token = self._peek()
            if token is None:
                if closing is not None:
                    raise HclError(f"unexpected end of input, expected {closing!r}")
                return result
            if closing is not None and token.text == closing:
                self._index += 1
                return result
            if token.text == ",":
                self._index += 1
                continue
            self._item(result)

    def _item(self, into: HclBody) -> None:
        key_token = self._next("a key")
        if key_token.kind not in ("ident", "string"):
            raise HclError(f"At line {key_token.line}: expected a key, got {key_token.text!r}")
        key = _unquote(key_token) if key_token.kind == "string" else key_token.text
        labels: list[str] = []
        while (token := self._peek()) is not None and token.kind == "string":
            labels.append(_unquote(self._next("a label")))
        token = self._next("'=' or '{'")
        if token.text in ("=", ":") and not labels:
            into[key] = self.value()
            return
        if token.text != "{":
            raise HclError(f"At line {token.line}: expected '=' or '{{', got {token.text!r}")
        block = self.body("}")
        blocks = into.setdefault(key, [])
        if not isinstance(blocks, list):
            raise HclError(f"At line {key_token.line}: {key!r} is both a value and a block")
        blocks.append((labels[0] if len(labels) == 1 else tuple(labels), block))

    def value(self) -> HclValue:
        token = self._next("a value")
        if token.kind == "string":
            return _unquote(token)
        if token.kind == "number":
            number = float(token.text)
            return int(number) if number.is_integer() and "." not in token.text else number
        if token.kind == "ident" and token.text in ("true", "false"):
            return token.text == "true"
        if token.text == "[":
            return self._list()
        if token.text == "{":
            return {str(k): v for k, v in self.body("}").items()}  # type: ignore[misc]
        raise HclError(f"At line {token.line}: unexpected {token.text!r}")

    def _list(self) -> list[HclValue]:
        items: list[HclValue] = []
        while True:
            token = self._peek()
            if token is None:
                raise HclError("unexpected end of input in a list")
            if token.text == "]":
                self._index += 1
                return items
            if token.text == ",":
                self._index += 1
                continue
            items.append(self.value())


def _unquote(token: _Token) -> str:
    try:
        value = json.loads(token.text)
    except ValueError:
        raise HclError(f"At line {token.line}: invalid string {token.text}") from None
    assert isinstance(value, str)
    return value


def parse_hcl(text: str) -> HclBody:
    """Parse policy-style HCL into a body dict (see the module docstring)."""
    return _Parser(_tokenize(text)).body(None)
