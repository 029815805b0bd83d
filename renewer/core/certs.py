"""When a client certificate must be renewed, and whether it can be used at all.

Pure: facts about a certificate and its key (times, public keys as bytes),
the clock reading and the random draw in; a :class:`CertDecision` out. The
parsing of PEM happens in the shell (``renewer.primitives.pem``).

Rules, each pinned by a test:

* no certificate → ``missing``;
* the private key's public half differs from the certificate's → ``mismatch``
  (a new certificate beside an old key is exactly what must never be used);
* the clock before ``not_before`` → ``not-yet-valid``; at or after
  ``not_after`` → ``expired``;
* otherwise the certificate is due for renewal from ``not_before +
  lifetime × fraction × (1 - 0.15 × draw)`` (the refresh window of
  :mod:`renewer.core.refresh`): with the default fraction 2/3 that is "when
  a third of the lifetime is left", at the latest → ``due``;
* otherwise ``fresh``.

Only ``fresh`` and ``due`` certificates can be used; :attr:`CertDecision.usable`
says so. Times in reasons are UTC, to the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from renewer.core.model import MalformedResponse
from renewer.core.refresh import DEFAULT_FRACTION, check_refresh
from renewer.core.secret import Secret

MISSING = "missing"
MISMATCH = "mismatch"
NOT_YET_VALID = "not-yet-valid"
EXPIRED = "expired"
DUE = "due"
FRESH = "fresh"


@dataclass(frozen=True, slots=True)
class CertFacts:
    """What renewer needs to know about a certificate (no private material)."""

    subject: str
    serial: str
    not_before: float
    not_after: float
    public_key: bytes  # SubjectPublicKeyInfo, DER

    @property
    def lifetime(self) -> float:
        return self.not_after - self.not_before


@dataclass(frozen=True, slots=True)
class CertDecision:
    """The state of a certificate now, why, and from when it is due (for status)."""

    state: str  # one of the constants above
    reason: str
    due_at: float | None = None

    @property
    def usable(self) -> bool:
        return self.state in {FRESH, DUE}


def utc(timestamp: float) -> str:
    """``2026-03-01 12:00:00 UTC``."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def check_certificate(
    cert: CertFacts | None,
    *,
    key_public: bytes | None,
    now: float,
    fraction: float = DEFAULT_FRACTION,
    draw: float = 0.0,
) -> CertDecision:
    """Decide by the rules in the module docstring."""
    if cert is None:
        return CertDecision(MISSING, "no client certificate is stored")
    if key_public is None or key_public != cert.public_key:
        return CertDecision(MISMATCH, "the private key does not belong to the certificate")
    if now < cert.not_before:
        return CertDecision(
            NOT_YET_VALID, f"the certificate is not valid before {utc(cert.not_before)}"
        )
    if now >= cert.not_after:
        return CertDecision(EXPIRED, f"the certificate expired at {utc(cert.not_after)}")
    decision = check_refresh(
        now=now,
        has_token=True,
        issued_at=cert.not_before,
        expires_at=cert.not_after,
        fraction=fraction,
        draw=draw,
    )
    if decision.due:
        return CertDecision(
            DUE,
            f"the certificate expires at {utc(cert.not_after)}; its renewal window has begun",
            decision.due_at,
        )
    return CertDecision(
        FRESH, f"the certificate is valid until {utc(cert.not_after)}", decision.due_at
    )


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """What Vault's ``pki/issue/ROLE`` answered: a key, its certificate and the CA chain.

    Parsed strictly by :meth:`from_data` (``MalformedResponse`` on any other
    shape); the private key travels as a :class:`~renewer.core.secret.Secret`.
    """

    certificate: str
    private_key: Secret = field(repr=False)
    ca_chain: tuple[str, ...]
    serial_number: str
    expiration: int
    private_key_type: str = ""
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, data: object, warnings: Sequence[str] | None = None) -> IssuedCertificate:
        """The ``data`` object of an issue answer (and its ``warnings``)."""
        if not isinstance(data, dict):
            raise MalformedResponse("the issue answer has no data object")
        texts = {}
        for key in ("certificate", "private_key", "serial_number"):
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise MalformedResponse(f"field {key!r} is not a non-empty string")
            texts[key] = value
        chain = data.get("ca_chain")
        if chain is None and isinstance(data.get("issuing_ca"), str):
            chain = [data["issuing_ca"]]
        if not isinstance(chain, list) or not all(isinstance(item, str) for item in chain):
            raise MalformedResponse("field 'ca_chain' is not a list of strings")
        expiration = data.get("expiration")
        if isinstance(expiration, bool) or not isinstance(expiration, int):
            raise MalformedResponse("field 'expiration' is not a number")
        key_type = data.get("private_key_type", "")
        return cls(
            certificate=texts["certificate"].strip(),
            private_key=Secret(texts["private_key"].strip()),
            ca_chain=tuple(item.strip() for item in chain if item.strip()),
            serial_number=texts["serial_number"],
            expiration=expiration,
            private_key_type=key_type if isinstance(key_type, str) else "",
            warnings=tuple(str(item) for item in warnings or ()),
        )
