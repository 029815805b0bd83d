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

Session credentials from STS (``aws.sts``) are asked for in
:mod:`renewer.primitives.aws_sts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from renewer.core.secret import Secret
from renewer.errors import CredentialError
from renewer.primitives.base import CredentialState, RuntimeState
from renewer.recipes.parts import AwsSpec

if TYPE_CHECKING:
    import requests

SIGNED_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256")


@dataclass(frozen=True, slots=True)
class AwsKeys:
    """An access key pair, with a session token for session credentials."""

    access_key_id: str
    secret_access_key: Secret = field(repr=False)
    session_token: Secret | None = field(default=None, repr=False)
    expiration: str = ""  # ISO 8601 UTC, for session credentials


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
