"""AWS session credentials from STS, asked for with the long-lived key.

STS (``aws.sts``): ``AssumeRole`` (role ARN from the secret, optional
external ID, ``renewer-<credential>`` as session name) or
``GetSessionToken``, a form POST to the recipe's endpoint, signed with the
long-lived key. The answer is XML; it is parsed with the standard library
after refusing anything with a document type declaration (no entities, no
DTD; expat also caps expansion) and anything over 64 KiB. The session's
lifetime is measured against the answer's ``Date`` header, so a wrong clock
on this machine does not shorten or stretch it; sinks get AWS's own
``Expiration`` (``x_security_token_expires`` in an ``aws_profile``). Errors:

* ``InvalidClientTokenId``, ``SignatureDoesNotMatch``, ``ExpiredToken``,
  ``InvalidAccessKeyId``, ``UnrecognizedClientException``: the long-lived
  key is wrong or disabled → ``CredentialReauthRequired`` (``renewer creds
  set NAME``); the credential is marked until a new key is stored;
* throttling and 5xx → retried, then exit 75;
* anything else (``AccessDenied`` on a role that does not trust the key,
  ``ValidationError``) → ``CredentialError`` with AWS's code and message.

Its own room: an STS exchange (the request, a strict XML parser, the
lifetime and the error classes) apart from signing, which every AWS request
needs (:mod:`renewer.primitives.aws`).
"""

from __future__ import annotations

import email.utils
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from xml.etree import ElementTree

from renewer import crashpoints
from renewer.core.secret import Secret
from renewer.errors import CredentialError, CredentialReauthRequired
from renewer.primitives.aws import AwsKeys, long_lived_keys, sign, spec_of
from renewer.primitives.base import CredentialState, RuntimeState, register_secret
from renewer.primitives.http import TransientFailure
from renewer.recipes.parts import StsSpec

if TYPE_CHECKING:
    import requests

    from renewer.primitives.http import Http

STS_VERSION = "2011-06-15"
MAX_ANSWER = 64 * 1024
DEAD_KEY_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidAccessKeyId",
        "UnrecognizedClientException",
    }
)
TRANSIENT_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable"}
)


class MalformedStsAnswer(ValueError):
    """STS answered something that is not an STS answer (the message holds no value)."""


@dataclass(frozen=True, slots=True)
class StsError:
    """An STS error answer: its code and cleaned message."""

    code: str
    message: str = ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element: ElementTree.Element, *names: str) -> ElementTree.Element | None:
    """The first descendant path matching *names* by local name (namespaces ignored)."""
    current: ElementTree.Element | None = element
    for name in names:
        if current is None:
            return None
        current = next((child for child in current.iter() if _local(child.tag) == name), None)
    return current


def _text(element: ElementTree.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _clean(text: str, limit: int = 300) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:limit]


def parse_sts_answer(status: int, body: bytes) -> AwsKeys | StsError:
    """An STS answer's credentials, or its error; :class:`MalformedStsAnswer` otherwise."""
    if len(body) > MAX_ANSWER:
        raise MalformedStsAnswer(f"HTTP {status}: the answer is larger than {MAX_ANSWER} bytes")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise MalformedStsAnswer(f"HTTP {status}: the answer declares a document type")
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - no DTD (checked above), size capped
    except ElementTree.ParseError:
        raise MalformedStsAnswer(f"HTTP {status}: not XML ({len(body)} bytes)") from None
    tag = _local(root.tag)
    if not tag.endswith("Response") and tag != "Error":
        shown = "".join(ch for ch in tag if ch.isalnum())[:30]
        raise MalformedStsAnswer(f"HTTP {status}: not an STS answer (a <{shown}> document)")
    error = _find(root, "Error")
    if error is not None:
        code = _clean(_text(_find(error, "Code")), 80) or "UnknownError"
        return StsError(code=code, message=_clean(_text(_find(error, "Message"))))
    credentials = _find(root, "Credentials")
    if status != 200 or credentials is None:
        raise MalformedStsAnswer(f"HTTP {status}: no Credentials in the answer")
    values = {
        name: _text(_find(credentials, name))
        for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise MalformedStsAnswer(f"the Credentials have no {', '.join(missing)}")
    return AwsKeys(
        access_key_id=values["AccessKeyId"],
        secret_access_key=Secret(values["SecretAccessKey"]),
        session_token=Secret(values["SessionToken"]),
        expiration=values["Expiration"],
    )


def _timestamp(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    value = moment.timestamp()
    return value if math.isfinite(value) else None


def session_lifetime(expiration: str, date_header: str | None, *, now: float) -> float:
    """Seconds the session lasts: Expiration minus the answer's Date (else minus *now*)."""
    expires = _timestamp(expiration)
    if expires is None:
        raise MalformedStsAnswer("the Expiration is not an ISO 8601 time")
    served = None
    if date_header:
        try:
            served = email.utils.parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError):
            served = None
    return max(0.0, expires - (served if served is not None else now))


def _sts_params(state: CredentialState, sts: StsSpec) -> dict[str, str]:
    params = {"Action": sts.action, "Version": STS_VERSION}
    params["DurationSeconds"] = str(sts.duration_seconds)
    if sts.action == "AssumeRole":
        params["RoleArn"] = state.require(sts.role_arn_from_secret)
        params["RoleSessionName"] = sts.role_session_name or _session_name(state.name)
        external = state.secret.get(sts.external_id_from_secret or "-")
        if external:
            params["ExternalId"] = external.reveal()
    return params


def _session_name(credential: str) -> str:
    allowed = "".join(ch if ch.isalnum() or ch in "+=,.@_-" else "-" for ch in credential)
    return f"renewer-{allowed}"[:64]


def request_session(state: CredentialState, *, http: Http) -> RuntimeState:
    """New session credentials from STS; the caller stores them before use."""
    import requests

    sts = spec_of(state).sts
    if sts is None:
        return state.runtime
    keys = long_lived_keys(state)
    body = urlencode(sorted(_sts_params(state, sts).items()))
    request = requests.Request(
        "POST",
        sts.endpoint,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    ).prepare()
    sign(request, keys, service="sts", region=sts.region)
    answers: list[tuple[AwsKeys, str | None]] = []

    def once() -> None:
        response = http.session.send(request, timeout=http.policy.timeout, allow_redirects=False)
        with response:
            answers.append((_checked(state, sts, response), response.headers.get("Date")))

    http.retrying(once, what=f"{state.name}: STS {sts.action}")
    session, date_header = answers[-1]
    crashpoints.reached("aws.issued")
    now = http.now()
    lifetime = session_lifetime(session.expiration, date_header, now=now)
    assert session.session_token is not None
    return RuntimeState(
        access_token=session.session_token,
        token_type="aws-session",  # noqa: S106 - a label, not a secret
        issued_at=now,
        expires_at=now + lifetime,
        extra={
            "aws_access_key_id": session.access_key_id,
            "aws_secret_access_key": session.secret_access_key.reveal(),
            "aws_expiration": _iso(_timestamp(session.expiration) or now + lifetime),
        },
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _checked(state: CredentialState, sts: StsSpec, response: requests.Response) -> AwsKeys:
    status = response.status_code
    if status >= 500 or status == 429:
        raise TransientFailure(f"HTTP {status}")
    try:
        answer = parse_sts_answer(status, response.content)
    except MalformedStsAnswer as exc:
        raise CredentialError(
            f"{state.name}: STS's answer is unusable: {exc}",
            hint="nothing was stored; check the recipe's aws.sts.endpoint and the service status",
        ) from None
    if isinstance(answer, AwsKeys):
        register_secret(answer.secret_access_key.reveal())
        if answer.session_token is not None:
            register_secret(answer.session_token.reveal())
        return answer
    said = f"{answer.code}: {answer.message}" if answer.message else answer.code
    if answer.code in TRANSIENT_CODES:
        raise TransientFailure(f"STS said {answer.code}")
    if answer.code in DEAD_KEY_CODES:
        raise CredentialReauthRequired(
            f"{state.name}: STS refused the stored access key ({said})",
            hint=f"store a working key: renewer creds set {state.name}",
        )
    hint = (
        "check that the key's user may sts:AssumeRole on the role and that the role trusts it"
        if sts.action == "AssumeRole"
        else "check the recipe's aws.sts settings and the key's permissions"
    )
    raise CredentialError(f"{state.name}: STS {sts.action} refused ({said})", hint=hint)
