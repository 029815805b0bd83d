"""Tests for renewer.primitives.tokens: strict parsing of token endpoint answers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.primitives.tokens import (
    ErrorAnswer,
    MalformedTokenResponse,
    TokenAnswer,
    parse_token_response,
)


def answer(data: object, status: int = 200) -> TokenAnswer | ErrorAnswer:
    return parse_token_response(status, "application/json", json.dumps(data).encode())


class TestParseTokenResponse:
    def test_full_answer_is_parsed(self) -> None:
        """Every RFC 6749 §5.1 field lands where it belongs."""
        parsed = answer(
            {
                "access_token": "at-123456",
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": "rt-123456",
                "scope": "read write",
            }
        )

        assert parsed == TokenAnswer("at-123456", "bearer", 3600.0, "rt-123456", "read write")

    def test_minimal_answer_gets_defaults(self) -> None:
        """No expiry, no refresh token, Bearer."""
        assert answer({"access_token": "at-123456"}) == TokenAnswer("at-123456")

    def test_list_scope_is_joined(self) -> None:
        """Some servers send scope as a list."""
        parsed = answer({"access_token": "at-123456", "scope": ["a", "b"]})

        assert isinstance(parsed, TokenAnswer)
        assert parsed.scope == "a b"

    @pytest.mark.parametrize("status", [200, 400, 401])
    def test_error_answer_is_an_error_whatever_the_status(self, status: int) -> None:
        """Slack says error with HTTP 200; others with 400/401."""
        parsed = answer({"error": "invalid_grant", "error_description": "bad\nthing"}, status)

        assert parsed == ErrorAnswer("invalid_grant", "bad thing")
        assert isinstance(parsed, ErrorAnswer)
        assert parsed.needs_reauth

    def test_transient_error_codes_are_recognised(self) -> None:
        """temporarily_unavailable is worth a retry."""
        parsed = answer({"error": "temporarily_unavailable"})

        assert isinstance(parsed, ErrorAnswer)
        assert parsed.transient
        assert not parsed.needs_reauth

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b"<html/>", "HTTP 200 with text/html, not JSON (7 bytes)"),
            (b"", "not JSON (0 bytes)"),
            (b'"token"', "the JSON is a string, not an object"),
            (b'{"error": 5}', "'error' is a number"),
            (b'{"access_token": null}', "access_token is empty"),
            (b'{"access_token": "x", "expires_in": true}', "expires_in is true/false"),
            (b'{"access_token": "x", "expires_in": 1e999}', "expires_in is not a usable number"),
            (b'{"access_token": "x", "token_type": 1}', "token_type is a number, not a string"),
            (b'{"access_token": "x", "scope": {"a": 1}}', "scope is an object"),
        ],
    )
    def test_malformed_answers_are_named_by_shape(self, body: bytes, message: str) -> None:
        """The message describes what was wrong without quoting values."""
        with pytest.raises(MalformedTokenResponse) as caught:
            parse_token_response(200, "text/html; charset=utf-8", body)

        assert message in str(caught.value)

    def test_access_token_value_is_never_in_the_repr(self) -> None:
        """A TokenAnswer in a log line hides its tokens."""
        parsed = answer({"access_token": "at-visible-123", "refresh_token": "rt-visible-123"})

        assert "visible" not in repr(parsed)


@given(body=st.binary(max_size=64), status=st.integers(100, 599), content_type=st.text(max_size=20))
def test_any_answer_parses_or_is_malformed(body: bytes, status: int, content_type: str) -> None:
    """Whatever a server sends, the parser answers or raises its own error."""
    try:
        parse_token_response(status, content_type, body)
    except MalformedTokenResponse as exc:
        message = str(exc)
        assert message
