"""Validation of a new webhook signing secret: send a signed test webhook, expect 2xx.

The receiver (the service that verifies webhooks) must already accept the
new secret, next to the old one, when this runs: the static-secret target
puts both in the store and runs the post-rotation hook before validating.
A 2xx proves the receiver accepts a signature made with the new secret; any
other status is a failed validation; no answer at all is temporary (exit 75,
the next run discards green and starts over).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import requests

from renewer.core.drift import Verdict
from renewer.core.secret import Secret
from renewer.errors import ServiceUnavailable
from renewer.rotation.signing import WebhookKind, signed_headers


def probe_body(kind: WebhookKind, *, rotation: str, delivery: str) -> bytes:
    """A harmless payload a receiver can recognise as renewer's test."""
    if kind is WebhookKind.GITHUB:
        document: dict[str, object] = {
            "zen": "Rotation is a phase, not an event.",
            "hook": {"type": "renewer-rotation-test"},
            "renewer": {"rotation": rotation, "delivery": delivery},
        }
    else:
        document = {"type": "renewer_rotation_test", "rotation": rotation, "delivery": delivery}
    return json.dumps(document, sort_keys=True).encode()


@dataclass
class WebhookCheck:
    """Send one signed test webhook to *url* with the secret under validation."""

    url: str
    kind: WebhookKind
    rotation: str
    now: float  # the run's wall clock: Slack's timestamp
    timeout: float = 10.0
    session: requests.Session | None = None

    def __call__(self, secret: Secret) -> Verdict:
        delivery = str(uuid.uuid4())
        body = probe_body(self.kind, rotation=self.rotation, delivery=delivery)
        headers = signed_headers(
            self.kind,
            secret.reveal().encode(),
            body,
            timestamp=int(self.now),
            delivery=delivery,
        )
        session = self.session or requests.Session()
        session.trust_env = False
        try:
            response = session.post(
                self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise ServiceUnavailable(
                f"test webhook to {self.url}: no answer ({type(exc).__name__})"
            ) from None
        finally:
            if self.session is None:
                session.close()
        if 200 <= response.status_code < 300:
            return Verdict()
        return Verdict(
            (
                f"the receiver at {self.url} answered {response.status_code} to a test webhook "
                f"signed with the new secret ({self.kind.value} signature)",
            )
        )
