"""Keys, service-account JSON files and certificates made in the tests (nothing from outside).

Every private key text made here is remembered by the leak guard, line by
line, so a test fails if any part of one shows up in output.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests import leakguard

EMAIL = "renewer-test@project.iam.gserviceaccount.com"
KEY_ID = "0123456789abcdef0123456789abcdef01234567"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def private_pem(key: PrivateKey) -> str:
    """PKCS#8 PEM of *key*, remembered as a secret."""
    text = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    leakguard.remember(text, *(line for line in text.splitlines() if len(line) >= 16))
    return text


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def service_account_json(
    key: PrivateKey, *, email: str = EMAIL, key_id: str = KEY_ID, **changes: Any
) -> str:
    """A Google service-account key file for *key* (fields changed or removed by *changes*)."""
    document: dict[str, Any] = {
        "type": "service_account",
        "project_id": "project",
        "private_key_id": key_id,
        "private_key": private_pem(key),
        "client_email": email,
        "client_id": "104650000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    for name, value in changes.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    return json.dumps(document, indent=2)


def client_cert(
    ca: Any,
    common_name: str,
    *,
    not_before: float | None = None,
    not_after: float | None = None,
) -> tuple[str, str]:
    """(certificate PEM, private key PEM) for a client, from a trustme CA; the key remembered."""
    from datetime import UTC, datetime

    leaf = ca.issue_cert(
        f"{common_name}.clients.test",
        common_name=common_name,
        not_before=None if not_before is None else datetime.fromtimestamp(not_before, UTC),
        not_after=None if not_after is None else datetime.fromtimestamp(not_after, UTC),
    )
    key = leaf.private_key_pem.bytes().decode()
    leakguard.remember(key, *(line for line in key.splitlines() if len(line) >= 16))
    return leaf.cert_chain_pems[0].bytes().decode(), key
