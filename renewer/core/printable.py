"""Text from outside made safe to show: nothing in it that a terminal would obey.

A Vault error, an OAuth ``error_description``, a hook's output, a recipe's
description or a state file another user wrote can hold ``ESC ] 0 ; … BEL``
(retitle the terminal), ``ESC [ 31 m`` (fake a colour), OSC 52 (write the
clipboard), a carriage return that overwrites the line before, or a
right-to-left override that reverses what follows. renewer shows such text in
a terminal, a login banner, a log and ``state.json``, so it passes through
:func:`printable` first (issue 20, item 2).

Rules, each pinned by a test (tests/unit/test_printable.py):

1. Every character that is not printable in Python's sense is replaced by its
   visible escape — ``\\x1b``, ``\\x9b``, ``\\u202e``, ``\\U000e0041``: C0
   controls (ESC, BEL, CR, BS, TAB…), DEL, C1 controls (the 8-bit CSI and
   OSC), format characters (bidi overrides, zero-width joiners, tag
   characters), line and paragraph separators, surrogates, private-use and
   unassigned code points. Ordinary spaces (category Zs, e.g. no-break space)
   stay: they move nothing.
2. Escape sequences cannot survive, since their introducers (ESC, the C1 CSI
   and OSC) are all escaped: what was a command becomes text one can read.
3. With ``keep_newlines`` the line feed ``\\n`` is kept (multi-line error
   messages, a response body); nothing else is. Without it a value cannot
   start a second, forged log line.
4. ``limit`` cuts what is longer and says how much was cut, so an 8 MiB
   error page does not become an 8 MiB log line.
5. Text that is already printable is returned as it is (the common case
   costs one C-level scan).

Values written into line-based files (an AWS profile, an env file, a
manifest) must stay on their line for every reader: :func:`fits_one_line`
refuses each character some reader ends a line at — ``str.splitlines``
breaks at ``\v \f \x1c-\x1e \x85 \u2028 \u2029`` too, where configparser and
systemd do not — and NUL, where C readers stop.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

_KEPT_CATEGORIES = frozenset({"Zs"})  # not "printable" to str.isprintable, but harmless
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_NOT_ON_A_LINE = LINE_BREAKS | {"\x00"}


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _safe(char: str, keep_newlines: bool) -> bool:
    if char.isprintable():
        return True
    if char == "\n":
        return keep_newlines
    return unicodedata.category(char) in _KEPT_CATEGORIES


def printable(text: str, *, keep_newlines: bool = False, limit: int | None = None) -> str:
    """*text* with every character a terminal could act on shown as its escape.

    ``limit`` caps the result at about that many characters (counted before
    escaping), ending with ``…(+N chars)``.
    """
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"…(+{len(text) - limit} chars)"
        text = text[:limit]
    if text.isprintable() or (
        keep_newlines and "\n" in text and text.replace("\n", "").isprintable()
    ):
        return text + cut
    return "".join(char if _safe(char, keep_newlines) else _escape(char) for char in text) + cut


def is_printable(text: str, *, keep_newlines: bool = False) -> bool:
    """True when :func:`printable` would return *text* unchanged (no limit)."""
    return all(_safe(char, keep_newlines) for char in text)


def printable_data(value: Any, *, limit: int | None = None) -> Any:
    """*value* (JSON-like: dicts, lists, strings, numbers) with every string made printable.

    Keys are strings too and are treated the same way: a state file keyed by a
    name from a hostile file must not carry the name's escape sequences.
    """
    if isinstance(value, str):
        return printable(value, limit=limit)
    if isinstance(value, Mapping):
        return {
            printable(str(key), limit=limit): printable_data(item, limit=limit)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [printable_data(item, limit=limit) for item in value]
    return value


def fits_one_line(text: str) -> bool:
    """True when no reader of a line-based file would split *text* or stop inside it."""
    return _NOT_ON_A_LINE.isdisjoint(text)
