"""Vault's failures → renewer's errors, decided once, here, for every call renewer makes.

A 403 whose answer says the caller's token is dead (unknown, expired, revoked:
``renewer.core.forbidden`` reads the shapes of Vault and OpenBao) →
:class:`ReauthRequired`, whatever the path (lookup-self, a KV read, a PKI issue,
an AppRole call, a sweep); any other 403 and the 400s that are denials →
:class:`VaultDenied`; connection errors, timeouts, 5xx, 429 and malformed
answers → :class:`VaultUnavailable` (retried first, see ``is_retryable``); any
other 4xx → :class:`VaultError`, never retried.
"""

from __future__ import annotations

import hvac.exceptions
import requests
import urllib3.exceptions

from renewer.core.forbidden import Forbidden, classify_forbidden, error_items
from renewer.core.model import MalformedResponse
from renewer.core.printable import printable
from renewer.errors import (
    ReauthRequired,
    RenewerError,
    VaultDenied,
    VaultError,
    VaultUnavailable,
)

DEAD_TOKEN_HINT = (
    "log in to Vault again (vault login -method=oidc), then re-mint the token sink "
    "renewer used for this call: renewer mint NAME"
)

_DENIAL_MARKERS = (
    "privileges required",
    "must be subset of parent",
    "cannot assign policy",
    "restricted use token cannot generate child tokens",
    "batch tokens cannot create more tokens",
)


UNAVAILABLE = (
    hvac.exceptions.VaultDown,
    hvac.exceptions.BadGateway,
    hvac.exceptions.InternalServerError,
    hvac.exceptions.RateLimitExceeded,
    hvac.exceptions.VaultNotInitialized,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.JSONDecodeError,
    MalformedResponse,
)


def _plain(error: str) -> str:
    """Vault's multierror text (``1 error occurred:\n\t* permission denied\n\n``) → one line."""
    return "; ".join(error_items(error))


def first_error(exc: hvac.exceptions.VaultError) -> str:
    """Vault's error text, one printable line: it reaches terminals, logs and state.json."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors:
        return printable("; ".join(_plain(str(error)) for error in errors), limit=500)
    content_type = getattr(exc, "content_type", None)
    if content_type is not None and not content_type.startswith("application/json"):
        # A web server or proxy, not Vault: its page (HTML...) is no message for a person.
        status = getattr(exc, "status_code", None) or "an error"
        kind = printable(content_type.split(";")[0].strip(), limit=80) or "an untyped body"
        return (
            f"the server answered HTTP {status} with {kind}, not Vault's JSON: "
            "is vault.addr a Vault server?"
        )
    text = str(getattr(exc, "text", "") or "").strip()
    return printable(" ".join(text[:200].split())) if text else type(exc).__name__


def retry_after(exc: BaseException) -> float | None:
    value = getattr(exc, "retry_after", None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate(exc: BaseException, action: str) -> RenewerError:
    """One hvac/requests failure → the renewer error it means."""
    if isinstance(exc, RenewerError):
        return exc
    if isinstance(exc, MalformedResponse):
        return VaultUnavailable(f"{action}: Vault's answer is malformed ({exc})")
    if isinstance(exc, requests.exceptions.SSLError):
        return _tls_error(exc, action)
    if isinstance(exc, requests.Timeout):
        return VaultUnavailable(f"{action}: Vault did not answer in time")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return VaultUnavailable(f"{action}: cannot reach Vault ({type(exc).__name__})")
    if isinstance(exc, requests.JSONDecodeError):
        return VaultUnavailable(f"{action}: Vault's answer is not JSON (a proxy page?)")
    if not isinstance(exc, hvac.exceptions.VaultError):
        return VaultError(f"{action}: {type(exc).__name__}")
    detail = first_error(exc)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, hvac.exceptions.Forbidden):
        errors = getattr(exc, "errors", None)
        if classify_forbidden(errors if isinstance(errors, list) else None) is Forbidden.DEAD_TOKEN:
            return ReauthRequired(
                f"{action}: the token is not valid (expired, revoked or unknown to this "
                f"Vault): {detail}",
                hint=DEAD_TOKEN_HINT,
            )
        # Vault's body usually *is* "permission denied": say it once.
        denied = detail if "permission denied" in detail else f"permission denied: {detail}"
        return VaultDenied(f"{action}: {denied}", status=403)
    if isinstance(exc, hvac.exceptions.InvalidRequest) and any(
        m in detail for m in _DENIAL_MARKERS
    ):
        return VaultDenied(f"{action}: {detail}", status=400)
    if isinstance(exc, hvac.exceptions.VaultDown):
        return VaultUnavailable(f"{action}: Vault is sealed or unavailable: {detail}")
    if isinstance(exc, UNAVAILABLE):
        return VaultUnavailable(f"{action}: Vault answered {status or ''} {detail}".rstrip())
    return VaultError(f"{action}: {detail}", status=status)


def _tls_error(exc: requests.exceptions.SSLError, action: str) -> VaultError:
    if _plain_http(exc):
        return VaultError(
            f"{action}: vault.addr says https://, but the server answered in plain HTTP "
            "(TLS wrong version number); nothing was sent",
            hint="use the server's TLS address, or http:// if it really is plain HTTP "
            "(accepted for 127.0.0.1 only, unless vault.allow_insecure_http)",
        )
    return VaultError(
        f"{action}: TLS with Vault failed ({_tls_reason(exc)}); nothing was sent",
        hint="set vault.ca_cert (or $VAULT_CACERT) to the CA that signed Vault's "
        "certificate; check vault.addr's host name",
    )


def _plain_http(exc: BaseException) -> bool:
    """The TLS handshake got an HTTP answer: OpenSSL's "wrong version number"."""
    text = str(exc)
    return "WRONG_VERSION_NUMBER" in text or "wrong version number" in text


def _tls_reason(exc: BaseException) -> str:
    text = str(exc)
    for reason in ("CERTIFICATE_VERIFY_FAILED", "hostname mismatch", "WRONG_VERSION_NUMBER"):
        if reason in text:
            return reason.replace("_", " ").lower()
    return "handshake failed"


def _never_sent(exc: BaseException) -> bool:
    """True when the request surely never reached Vault: no connection was made.

    A connection reset or a closed connection *during* the exchange is not
    that: Vault (or a proxy in front of it) may have processed the request.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.ReadTimeout):
        return False
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the cause
    return isinstance(
        cause, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    if not isinstance(exc, UNAVAILABLE) or isinstance(exc, requests.exceptions.SSLError):
        return False
    if idempotent:
        return True
    # A request that may have been processed (read timeout, a reset mid-exchange,
    # a 500 after the fact) must not be repeated when it creates something: a
    # second mint would leave the first one unrecorded. Only "surely not processed".
    return _never_sent(exc) or isinstance(
        exc, hvac.exceptions.VaultDown | hvac.exceptions.RateLimitExceeded
    )


def malformed(reason: str, host: str) -> MalformedResponse:
    return MalformedResponse(reason)


def unknown_secret_id_accessor(exc: hvac.exceptions.VaultError) -> bool:
    """Vault's ways of saying "no such secret-id accessor" (500, 404, or 403 when half gone)."""
    text = f"{first_error(exc)} {getattr(exc, 'text', '') or ''}"
    return (
        "failed to find accessor entry" in text
        or "invalid secret id accessor" in text
        or (isinstance(exc, hvac.exceptions.InvalidPath) and not getattr(exc, "errors", None))
    )
