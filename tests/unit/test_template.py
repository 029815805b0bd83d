"""Tests for renewer.template: the placeholder substitution of recipes and sinks."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.template import Placeholder, TemplateError, parse, placeholders, render

VALUES = {"secret": {"token": "tok-123"}, "const": {"version": "2022-06-28"}, "runtime": {}}


class TestRender:
    def test_placeholders_are_replaced(self) -> None:
        """secret and const values land where the template says."""
        assert render("Bearer {{secret.token}} v={{ const.version }}", VALUES) == (
            "Bearer tok-123 v=2022-06-28"
        )

    def test_text_without_placeholders_is_unchanged(self) -> None:
        """A constant header value is just text, stray }} included."""
        assert render("application/json }}", VALUES) == "application/json }}"

    def test_missing_value_is_an_error_naming_the_placeholder(self) -> None:
        """Never a silent empty string."""
        with pytest.raises(TemplateError, match=r"\{\{runtime.access_token\}\} has no value"):
            render("Bearer {{runtime.access_token}}", VALUES)

    def test_values_are_not_expanded_again(self) -> None:
        """A secret containing {{...}} cannot pull in another secret."""
        values = {"secret": {"a": "{{secret.b}}", "b": "hidden-b"}}

        assert render("{{secret.a}}", values) == "{{secret.b}}"


class TestParse:
    @pytest.mark.parametrize(
        ("template", "message"),
        [
            ("{{ secret }}", "must start a placeholder"),
            ("{{secret.token", "must start a placeholder"),
            ("{{secret.to ken}}", "must start a placeholder"),
            ("{{ secret.token | upper }}", "must start a placeholder"),
            ("{{__import__.os}}", "unknown namespace '__import__'"),
            ("{{env.HOME}}", "unknown namespace 'env'"),
            ("x {{ 1+1 }}", "column 3"),
        ],
    )
    def test_malformed_templates_are_refused(self, template: str, message: str) -> None:
        """Anything but {{namespace.key}} after '{{' is an error with its column."""
        with pytest.raises(TemplateError, match=message):
            parse(template)

    def test_placeholders_lists_every_use(self) -> None:
        """Validation at load time sees every placeholder, repeats included."""
        assert placeholders("{{secret.a}}{{const.b}}{{secret.a}}") == (
            Placeholder("secret", "a"),
            Placeholder("const", "b"),
            Placeholder("secret", "a"),
        )

    def test_placeholder_prints_as_written(self) -> None:
        """Errors show the placeholder in its canonical spelling."""
        assert str(Placeholder("secret", "token")) == "{{secret.token}}"


plain_text = st.text().filter(lambda text: "{{" not in text)
keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


@given(text=plain_text)
def test_text_without_open_braces_renders_to_itself(text: str) -> None:
    """Only '{{' is special."""
    assert render(text, {}) == text


@given(template=st.text(alphabet="{}.ab secrt", max_size=30))
def test_parse_raises_only_template_errors(template: str) -> None:
    """Malformed input is reported, never a crash of another kind."""
    with contextlib.suppress(TemplateError):
        parse(template)


@given(
    before=plain_text,
    after=plain_text,
    key=keys,
    value=st.text(),
)
def test_value_appears_verbatim_and_once(before: str, after: str, key: str, value: str) -> None:
    """A placeholder is replaced by exactly its value, whatever the value holds."""
    template = before + "{{secret." + key + "}}" + after
    try:
        pieces = parse(template)
    except TemplateError:
        return  # the surrounding text made a malformed '{{'
    if Placeholder("secret", key) not in pieces:
        return
    rendered = render(template, {"secret": {key: value}})

    assert rendered == "".join(value if isinstance(p, Placeholder) else p for p in pieces)
