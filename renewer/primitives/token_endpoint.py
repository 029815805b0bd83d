"""What a token endpoint's answer means for a credential: a token, a retry, or a refusal.

:func:`checked_answer` turns one HTTP answer into a
:class:`~renewer.primitives.tokens.TokenAnswer` (registered for redaction at
once) or raises what it means: 5xx, 429 and ``temporarily_unavailable`` are
retried; ``invalid_grant``/``invalid_client`` need a person (the exact
command is the hint); anything else is refused with the service's words.
Its own room: the ``oauth2`` primitive and the JWT-bearer exchange of
``service_account`` judge their answers the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from renewer import redact
from renewer.errors import CredentialError, CredentialReauthRequired
from renewer.primitives.http import TransientFailure
from renewer.primitives.tokens import (
    ErrorAnswer,
    MalformedTokenResponse,
    TokenAnswer,
    parse_token_response,
)

if TYPE_CHECKING:
    import requests


def checked_answer(
    name: str, response: requests.Response, *, reauth: str, what: str = "oauth.token_url"
) -> TokenAnswer:
    """Classify a token endpoint's answer; raise what it means (also for JWT-bearer exchanges)."""
    status = response.status_code
    if status >= 500 or status == 429:
        raise TransientFailure(f"HTTP {status}")
    try:
        answer = parse_token_response(
            status, response.headers.get("Content-Type", ""), response.content
        )
    except MalformedTokenResponse as exc:
        raise CredentialError(
            f"{name}: the token endpoint's answer is unusable: {exc}",
            hint=f"nothing was stored; check the recipe's {what} and the service status",
        ) from None
    if isinstance(answer, ErrorAnswer):
        raise _error_for(name, answer, reauth=reauth)
    redact.register(answer.access_token, answer.refresh_token)
    return answer


def _error_for(name: str, answer: ErrorAnswer, *, reauth: str) -> Exception:
    said = answer.error + (f": {answer.description}" if answer.description else "")
    if answer.transient:
        return TransientFailure(f"the token endpoint said {answer.error}")
    if answer.needs_reauth:
        what = "client credentials" if answer.error == "invalid_client" else "grant"
        return CredentialReauthRequired(
            f"{name}: the token endpoint refused the {what} ({said})", hint=reauth
        )
    return CredentialError(
        f"{name}: the token endpoint refused the request ({said})",
        hint="check the recipe's oauth settings (scopes, client_auth) against the service",
    )
