"""Putting a credential on a request: header, query, JSON/form body, HTTP Basic or Digest auth.

:func:`plan_injection` renders the recipe's ``inject`` templates (pure);
:func:`apply_injection` edits a ``requests.PreparedRequest`` in place. Every
rendered value that reaches the wire in another spelling (base64 for Basic
auth, percent-encoding in a query) is registered with :mod:`renewer.redact`
in that spelling too, so a log of the request cannot show it either.

Body injection adds fields to a JSON object body (an empty body becomes
one) or to a form body; any other body is refused rather than corrupted.

Digest auth (RFC 7616, seed 004 §3.1) cannot be computed in advance: the
request goes out bare, and requests' ``HTTPDigestAuth`` answers the server's
``401`` challenge by resending it once with the digest (the password itself
never travels). Each request makes its own challenge round trip.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from renewer import redact
from renewer.errors import CredentialError
from renewer.template import TemplateError, render

if TYPE_CHECKING:
    import requests

    from renewer.primitives.base import CredentialState

_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Injection:
    """Rendered values to put on a request."""

    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    digest_auth: tuple[str, str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # the values are secrets: show only where they go
        return (
            f"Injection(headers={sorted(self.headers)}, query={sorted(self.query)}, "
            f"body={sorted(self.body)}, basic_auth={self.basic_auth is not None}, "
            f"digest_auth={self.digest_auth is not None})"
        )


def plan_injection(state: CredentialState) -> Injection:
    """Render *state*'s recipe ``inject`` block; a missing value is a ``CredentialError``."""
    spec = state.recipe.inject
    values = state.values()

    def rendered(section: Mapping[str, str]) -> dict[str, str]:
        return {name: _render(state, template, values) for name, template in section.items()}

    def pair(templates: tuple[str, str] | None) -> tuple[str, str] | None:
        if templates is None:
            return None
        return _render(state, templates[0], values), _render(state, templates[1], values)

    return Injection(
        headers=rendered(spec.header),
        query=rendered(spec.query),
        body=rendered(spec.body),
        basic_auth=pair(spec.basic_auth),
        digest_auth=pair(spec.digest_auth),
    )


def _render(state: CredentialState, template: str, values: Mapping[str, Mapping[str, str]]) -> str:
    try:
        return render(template, values)
    except TemplateError as exc:
        runtime = "{{runtime." in template
        raise CredentialError(
            f"{state.name}: cannot build the request: {exc}",
            hint=(
                f"renewer auth login {state.name}" if runtime else f"renewer creds set {state.name}"
            ),
        ) from None


def apply_injection(request: requests.PreparedRequest, injection: Injection) -> None:
    """Put *injection* on *request* (headers, URL, body, Content-Length)."""
    for name, value in injection.headers.items():
        request.headers[name] = value
    if injection.basic_auth is not None:
        user, password = injection.basic_auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        redact.register(token)
        request.headers["Authorization"] = f"Basic {token}"
    if injection.query:
        request.url = _with_query(request.url or "", injection.query)
    if injection.body:
        _inject_body(request, injection.body)
    if injection.digest_auth is not None:
        from requests.auth import HTTPDigestAuth

        HTTPDigestAuth(*injection.digest_auth)(request)  # answers the 401 challenge once


def _with_query(url: str, fields: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in fields]
    for value in fields.values():
        redact.register(quote(value, safe=""), quote_plus(value))
    query = urlencode([*kept, *fields.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _inject_body(request: requests.PreparedRequest, fields: Mapping[str, str]) -> None:
    body = request.body
    raw = body.encode() if isinstance(body, str) else (body or b"")
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if not raw or content_type.endswith("json") or content_type.endswith("+json"):
        try:
            current = json.loads(raw) if raw else {}
        except ValueError:
            current = None
        if not isinstance(current, dict):
            raise CredentialError(
                "the recipe injects into the request body, but the body is not a JSON object"
            )
        new = json.dumps({**current, **fields}).encode()
        request.headers["Content-Type"] = request.headers.get("Content-Type") or "application/json"
    elif content_type == _FORM:
        pairs = [
            (k, v) for k, v in parse_qsl(raw.decode(), keep_blank_values=True) if k not in fields
        ]
        for value in fields.values():
            redact.register(quote_plus(value))
        new = urlencode([*pairs, *fields.items()]).encode()
    else:
        raise CredentialError(
            f"the recipe injects into the request body, but the body is {content_type or 'untyped'}"
            " (only JSON objects and forms can take fields)"
        )
    request.body = new
    request.headers["Content-Length"] = str(len(new))
