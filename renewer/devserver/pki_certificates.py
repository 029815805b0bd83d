"""Keys and certificates for the PKI engine: validity, key usage, building and signing.

Follows ``builtin/logical/pki``: the TTL rule of ``GetCertificateNotAfter``
(request ``ttl``, else the role's, else the mount default; capped at the
role's ``max_ttl``, else the mount max, with Vault's warning; refused past
the CA's own expiry), the key types and sizes a role allows, and Vault's
text forms of serials (``39:dd:...``) and times. It is its own room because
it is all ``cryptography`` and formatting, apart from the HTTP handlers in
``pki`` that use it. Times come from the call (the server's virtual clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from renewer.devserver.durations import go_duration_string
from renewer.devserver.fields import get_duration
from renewer.devserver.pki_roles import PkiRole
from renewer.devserver.protocol import Call, bad_request

if TYPE_CHECKING:
    from renewer.devserver.pki import PkiBackend

SYSTEM_TTL = 768 * 3600  # the mount's default and max lease TTL, as `vault server -dev`
_CURVES: Mapping[int, ec.EllipticCurve] = {
    256: ec.SECP256R1(),
    384: ec.SECP384R1(),
    521: ec.SECP521R1(),
}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def utc_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode().strip()


def vault_serial(number: int) -> str:
    """Vault's colon-separated lower-case hex (``39:dd:2e:...``)."""
    text = f"{number:x}"
    text = text.rjust(len(text) + len(text) % 2, "0")
    return ":".join(text[i : i + 2] for i in range(0, len(text), 2))


def leaf_not_after(backend: PkiBackend, role: PkiRole, call: Call) -> tuple[float, list[str]]:
    """``GetCertificateNotAfter`` + ``ApplyIssuerLeafNotAfterBehavior`` (the default: err)."""
    warnings: list[str] = []
    ttl = get_duration(call.data, "ttl") or role.ttl or SYSTEM_TTL
    max_ttl = role.max_ttl or SYSTEM_TTL
    if ttl > max_ttl:
        warnings.append(
            f'TTL "{go_duration_string(ttl)}" is longer than permitted maxTTL '
            f'"{go_duration_string(max_ttl)}", so maxTTL is being used'
        )
        ttl = max_ttl
    not_after = call.now + ttl
    ca_not_after = backend.ca_cert.not_valid_after_utc.timestamp()
    if not_after > ca_not_after:
        raise bad_request(
            f"cannot satisfy request, as TTL would result in notAfter of {rfc3339(not_after)} "
            f"that is beyond the expiration of the CA certificate at {rfc3339(ca_not_after)}"
        )
    return not_after, warnings


def rfc3339(timestamp: float) -> str:
    moment = utc_datetime(timestamp)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def new_key(role: PkiRole) -> PrivateKey:
    if role.key_type == "ec":
        return ec.generate_private_key(_CURVES[role.key_bits])
    return rsa.generate_private_key(public_exponent=65537, key_size=role.key_bits)


def _usage(role: PkiRole) -> x509.KeyUsage:
    usages = {usage.lower() for usage in role.key_usage}
    return x509.KeyUsage(
        digital_signature="digitalsignature" in usages,
        content_commitment="contentcommitment" in usages,
        key_encipherment="keyencipherment" in usages and role.key_type == "rsa",
        data_encipherment="dataencipherment" in usages,
        key_agreement="keyagreement" in usages and role.key_type == "ec",
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def build_certificate(
    backend: PkiBackend,
    role: PkiRole,
    key: PrivateKey,
    *,
    serial: int,
    cn: str,
    sans: list[x509.GeneralName],
    now: float,
    not_after: float,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else [])
    purposes = [ExtendedKeyUsageOID.SERVER_AUTH] if role.server_flag else []
    purposes += [ExtendedKeyUsageOID.CLIENT_AUTH] if role.client_flag else []
    ca_public = backend.ca_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(backend.ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(utc_datetime(now - role.not_before_duration))
        .not_valid_after(utc_datetime(not_after))
        .add_extension(_usage(role), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
        )
    )
    if purposes:
        builder = builder.add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(backend.ca_key, hashes.SHA256())
