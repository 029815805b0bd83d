"""The template language of recipes and sinks: ``{{secret.x}}``, ``{{const.y}}``, ``{{runtime.z}}``.

Pure and stdlib-only. Recipes come from files anyone can write, so the
renderer can do exactly one thing: replace a placeholder by a value. There is
no evaluation, no filters, no loops, no attribute access, no Jinja.

Rules, each pinned by a test:

* a placeholder is ``{{ namespace.key }}`` (spaces inside the braces are
  allowed); the namespace is one of ``secret``, ``const``, ``runtime``; a key
  is letters, digits and ``_``, not starting with a digit;
* ``{{`` anywhere else is an error (there is no escape: no recipe needs a
  literal ``{{``); a lone ``}}`` is ordinary text;
* rendering a placeholder without a value is an error naming the
  placeholder, never a silent empty string;
* substitution is one pass: a value that itself contains ``{{...}}`` is
  inserted as it is, never expanded again (a secret cannot inject another
  secret);
* errors name placeholders and columns, never values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

NAMESPACES = ("secret", "const", "runtime")
_OPEN = "{{"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

Values = Mapping[str, Mapping[str, str]]


class TemplateError(ValueError):
    """A template is malformed or names something that has no value."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``{{namespace.key}}`` in a template."""

    namespace: str
    key: str

    def __str__(self) -> str:
        return f"{{{{{self.namespace}.{self.key}}}}}"


Piece = str | Placeholder


def parse(template: str) -> tuple[Piece, ...]:
    """Split *template* into literal text and placeholders; raise :class:`TemplateError`."""
    pieces: list[Piece] = []
    position = 0
    while True:
        start = template.find(_OPEN, position)
        if start < 0:
            break
        match = _PLACEHOLDER.match(template, start)
        if match is None:
            raise TemplateError(
                f"column {start + 1}: '{{{{' must start a placeholder like {{{{secret.token}}}}"
            )
        namespace, key = match.group(1), match.group(2)
        if namespace not in NAMESPACES:
            raise TemplateError(
                f"column {start + 1}: unknown namespace {namespace!r} in {{{{{namespace}.{key}}}}}"
                f" (use {', '.join(NAMESPACES)})"
            )
        if start > position:
            pieces.append(template[position:start])
        pieces.append(Placeholder(namespace, key))
        position = match.end()
    if position < len(template):
        pieces.append(template[position:])
    return tuple(pieces)


def placeholders(template: str) -> tuple[Placeholder, ...]:
    """The placeholders of *template*, in order, with repeats."""
    return tuple(piece for piece in parse(template) if isinstance(piece, Placeholder))


def render(template: str, values: Values) -> str:
    """Replace every placeholder in *template* by its value from *values* (one pass)."""
    out: list[str] = []
    for piece in parse(template):
        if isinstance(piece, str):
            out.append(piece)
            continue
        value = values.get(piece.namespace, {}).get(piece.key)
        if value is None:
            raise TemplateError(f"{piece} has no value here")
        out.append(value)
    return "".join(out)
