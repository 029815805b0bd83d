"""PEM certificates and keys read with ``cryptography``: facts out, key material kept in.

The shell half of :mod:`renewer.core.certs`: it turns PEM text into
:class:`~renewer.core.certs.CertFacts` (times, subject, serial, the public
key's DER) and a private key into its public key's DER, so the decisions
stay pure. Errors are ``ValueError`` with a message that describes the
shape of the input, never its content.
"""

from __future__ import annotations

import re

from renewer.core.certs import CertFacts

_BLOCK = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----\r?\n.*?-----END (?P=label)-----", re.DOTALL
)


def blocks(text: str, label: str = "CERTIFICATE") -> list[str]:
    """The PEM blocks of *text* with *label*, in order, each ending with a newline."""
    return [m.group(0) + "\n" for m in _BLOCK.finditer(text) if m.group("label") == label]


def cert_facts(pem: str) -> CertFacts:
    """Facts about the first certificate in *pem*."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    found = blocks(pem)
    if not found:
        raise ValueError("no PEM certificate (-----BEGIN CERTIFICATE-----) in the text")
    try:
        cert = x509.load_pem_x509_certificate(found[0].encode())
    except ValueError:
        raise ValueError("the PEM certificate does not parse") from None
    serial = f"{cert.serial_number:x}"
    serial = serial.rjust(len(serial) + len(serial) % 2, "0")
    return CertFacts(
        subject=cert.subject.rfc4514_string(),
        serial=":".join(serial[i : i + 2] for i in range(0, len(serial), 2)),
        not_before=cert.not_valid_before_utc.timestamp(),
        not_after=cert.not_valid_after_utc.timestamp(),
        public_key=cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
    )


def key_public(pem: str) -> bytes:
    """The DER SubjectPublicKeyInfo of the private key in *pem*."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
    )

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("not a PEM private key (or one protected by a password)") from None
    except Exception:  # UnsupportedAlgorithm
        raise ValueError("a private key of a kind this renewer cannot use") from None
    return key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def chain_of(pem: str) -> str:
    """The certificates after the first one (a pasted chain), as PEM text."""
    return "".join(blocks(pem)[1:])
