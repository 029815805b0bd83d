"""What a token endpoint said, parsed strictly (RFC 6749 §5.1 and §5.2).

Pure: status, content type and body bytes in; a :class:`TokenAnswer` or an
:class:`ErrorAnswer` out, or :class:`MalformedTokenResponse` with a reason
that is safe to show (it describes shapes, never values).

Strict on purpose: a proxy's HTML page, a body without ``access_token``, or
``expires_in`` as a string is reported as what it is instead of being
stored as a token. Slack-style errors (HTTP 200 with ``"error"``) are errors.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

# Codes after which only a person can help: the grant or the client is dead.
REAUTH_ERRORS = frozenset({"invalid_grant", "invalid_client", "invalid_refresh_token"})
# Codes that say "try again later".
TRANSIENT_ERRORS = frozenset({"temporarily_unavailable", "server_error", "slow_down"})
_MAX_DESCRIPTION = 200


class MalformedTokenResponse(ValueError):
    """The answer is not a token response (the message describes its shape only)."""


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """A successful token response."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    expires_in: float | None = None
    refresh_token: str | None = field(default=None, repr=False)
    scope: str = ""


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """An OAuth error response: ``error`` and a cleaned ``error_description``."""

    error: str
    description: str = ""

    @property
    def needs_reauth(self) -> bool:
        return self.error in REAUTH_ERRORS

    @property
    def transient(self) -> bool:
        return self.error in TRANSIENT_ERRORS


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _clean(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return printable[:_MAX_DESCRIPTION]


def parse_token_response(status: int, content_type: str, body: bytes) -> TokenAnswer | ErrorAnswer:
    """Parse a token endpoint's answer; see the module docstring."""
    shown_type = content_type.split(";", maxsplit=1)[0].strip() or "no content type"
    try:
        data = json.loads(body)
    except ValueError:
        raise MalformedTokenResponse(
            f"HTTP {status} with {shown_type}, not JSON ({len(body)} bytes)"
        ) from None
    if not isinstance(data, dict):
        raise MalformedTokenResponse(f"HTTP {status}: the JSON is {_kind(data)}, not an object")
    if "error" in data:
        if not isinstance(data["error"], str) or not data["error"]:
            raise MalformedTokenResponse(f"HTTP {status}: 'error' is {_kind(data['error'])}")
        return ErrorAnswer(
            error=_clean(data["error"]), description=_clean(data.get("error_description"))
        )
    if status != 200:
        raise MalformedTokenResponse(f"HTTP {status} without an OAuth error code")
    return TokenAnswer(
        access_token=_required_text(data, "access_token"),
        token_type=_optional_text(data, "token_type") or "Bearer",
        expires_in=_expires_in(data),
        refresh_token=_optional_text(data, "refresh_token"),
        scope=_scope(data),
    )


def _required_text(data: dict[str, Any], key: str) -> str:
    if key not in data:
        raise MalformedTokenResponse(f"the answer has no {key}")
    value = _optional_text(data, key)
    if not value:
        raise MalformedTokenResponse(f"{key} is empty")
    return value


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedTokenResponse(f"{key} is {_kind(value)}, not a string")
    return value


def _expires_in(data: dict[str, Any]) -> float | None:
    value = data.get("expires_in")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedTokenResponse(f"expires_in is {_kind(value)}, not a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise MalformedTokenResponse("expires_in is not a usable number of seconds")
    return float(value)


def _scope(data: dict[str, Any]) -> str:
    value = data.get("scope")
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return " ".join(value)
    raise MalformedTokenResponse(f"scope is {_kind(value)}")
