"""Webhook signatures: how a test webhook proves the new signing secret works.

Pure (stdlib ``hmac``/``hashlib``): bytes in, header values out.

* GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``.
* Slack: ``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">`` with
  ``X-Slack-Request-Timestamp: {timestamp}`` (seconds); receivers refuse
  timestamps more than five minutes away from their clock (replay guard).

The ``verify_*`` functions are what a receiver does during a rotation's
grace period: accept a signature made with *any* of the accepted secrets,
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from enum import Enum

SLACK_MAX_SKEW = 300  # seconds; Slack's documented replay window


class WebhookKind(Enum):
    GITHUB = "github"
    SLACK = "slack"


def _hex_hmac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def github_signature(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value for *body*."""
    return "sha256=" + _hex_hmac(secret, body)


def slack_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Slack-Signature`` value for *body* sent at *timestamp*."""
    return "v0=" + _hex_hmac(secret, b"v0:" + str(timestamp).encode() + b":" + body)


def signed_headers(
    kind: WebhookKind, secret: bytes, body: bytes, *, timestamp: int, delivery: str
) -> dict[str, str]:
    """Every header a test webhook of *kind* carries."""
    headers = {"Content-Type": "application/json", "User-Agent": "renewer-rotation-check"}
    if kind is WebhookKind.GITHUB:
        headers.update(
            {
                "X-Hub-Signature-256": github_signature(secret, body),
                "X-GitHub-Event": "ping",
                "X-GitHub-Delivery": delivery,
            }
        )
    else:
        headers.update(
            {
                "X-Slack-Signature": slack_signature(secret, timestamp, body),
                "X-Slack-Request-Timestamp": str(timestamp),
            }
        )
    return headers


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def verify_github(accepted: Sequence[bytes], body: bytes, headers: Mapping[str, str]) -> bool:
    """True when the signature was made with one of the *accepted* secrets."""
    given = _lower(headers).get("x-hub-signature-256", "")
    return any(hmac.compare_digest(given, github_signature(key, body)) for key in accepted)


def verify_slack(
    accepted: Sequence[bytes], body: bytes, headers: Mapping[str, str], *, now: float
) -> bool:
    """True when fresh (within five minutes of *now*) and signed with an accepted secret."""
    lowered = _lower(headers)
    stamp = lowered.get("x-slack-request-timestamp", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > SLACK_MAX_SKEW:
        return False
    given = lowered.get("x-slack-signature", "")
    return any(
        hmac.compare_digest(given, slack_signature(key, int(stamp), body)) for key in accepted
    )
