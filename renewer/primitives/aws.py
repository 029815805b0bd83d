"""AWS: SigV4 signing with botocore, and session credentials from STS.

Seed 004 §3.3 (``aws_sigv4``), issue 6. botocore signs (``SigV4Auth``, or
``S3SigV4Auth`` for S3, which adds ``X-Amz-Content-SHA256``); renewer never
builds a botocore session or client, so nothing here reads ``AWS_*``
variables, ``~/.aws/config`` or a credential chain: the keys are the
stored secret's, the region the secret's ``region`` or the recipe's
``aws.region``.

Only the headers renewer chooses are signed (``host``, ``content-type``
when set, and the ``x-amz-*`` ones botocore adds), so headers that
requests adds later (``Accept-Encoding``, ``Connection``) cannot break the
signature.

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
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from xml.etree import ElementTree

from renewer import crashpoints
from renewer.core.secret import Secret
from renewer.errors import CredentialError, CredentialReauthRequired
from renewer.primitives.base import CredentialState, RuntimeState, register_secret
from renewer.primitives.http import TransientFailure
from renewer.recipes.parts import AwsSpec, StsSpec

if TYPE_CHECKING:
    import requests

    from renewer.primitives.http import Http

STS_VERSION = "2011-06-15"
MAX_ANSWER = 64 * 1024
SIGNED_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256")
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


@dataclass(frozen=True, slots=True)
class AwsKeys:
    """An access key pair, with a session token for session credentials."""

    access_key_id: str
    secret_access_key: Secret = field(repr=False)
    session_token: Secret | None = field(default=None, repr=False)
    expiration: str = ""  # ISO 8601 UTC, for session credentials


class MalformedStsAnswer(ValueError):
    """STS answered something that is not an STS answer (the message holds no value)."""


@dataclass(frozen=True, slots=True)
class StsError:
    """An STS error answer: its code and cleaned message."""

    code: str
    message: str = ""


def spec_of(state: CredentialState) -> AwsSpec:
    if state.recipe.aws is None:
        raise CredentialError(f"{state.name}: recipe {state.recipe.service} has no aws block")
    return state.recipe.aws


def region_of(state: CredentialState) -> str:
    """The secret's ``region`` when set, else the recipe's."""
    region = state.secret.get("region")
    return region.reveal() if region else spec_of(state).region


def long_lived_keys(state: CredentialState) -> AwsKeys:
    """The stored key pair (``access_key_id``, ``secret_access_key``)."""
    return AwsKeys(
        access_key_id=state.require("access_key_id"),
        secret_access_key=Secret(state.require("secret_access_key")),
    )


def session_keys(runtime: RuntimeState) -> AwsKeys | None:
    """The session credentials kept in the runtime state, if any."""
    key_id = runtime.extra.get("aws_access_key_id")
    secret = runtime.extra.get("aws_secret_access_key")
    if not key_id or not secret or runtime.access_token is None:
        return None
    return AwsKeys(
        access_key_id=key_id,
        secret_access_key=Secret(secret),
        session_token=runtime.access_token,
        expiration=runtime.extra.get("aws_expiration", ""),
    )


def effective_keys(state: CredentialState) -> AwsKeys:
    """Session credentials when STS is configured and they exist, else the long-lived key."""
    spec = spec_of(state)
    if spec.sts is not None:
        session = session_keys(state.runtime)
        if session is not None:
            return session
    return long_lived_keys(state)


def sign(request: requests.PreparedRequest, keys: AwsKeys, *, service: str, region: str) -> None:
    """Add SigV4 headers to *request* (see the module docstring for what is signed)."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signed: dict[str, str] = {}
    content_type = request.headers.get("Content-Type")
    if content_type:
        signed["Content-Type"] = content_type
    body = request.body or b""
    aws_request = AWSRequest(
        method=request.method,
        url=request.url,
        data=body.encode() if isinstance(body, str) else body,
        headers=signed,
    )
    token = keys.session_token.reveal() if keys.session_token else None
    credentials = Credentials(keys.access_key_id, keys.secret_access_key.reveal(), token)
    signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(credentials, service, region)
    signer.add_auth(aws_request)
    for header in SIGNED_HEADERS:
        value = aws_request.headers.get(header)
        if value is None:
            request.headers.pop(header, None)
        else:
            request.headers[header] = value


# --- STS ---------------------------------------------------------------------------


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


def profile_values(keys: AwsKeys) -> Mapping[str, str]:
    """The ``{{runtime.aws_*}}`` values of *keys*."""
    values = {
        "aws_access_key_id": keys.access_key_id,
        "aws_secret_access_key": keys.secret_access_key.reveal(),
    }
    if keys.session_token is not None:
        values["aws_session_token"] = keys.session_token.reveal()
    if keys.expiration:
        values["aws_expiration"] = keys.expiration
    return values
