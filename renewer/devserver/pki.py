"""A minimal PKI secrets engine at ``pki/``: one root CA, roles, ``issue``, CA reads.

Follows ``builtin/logical/pki``: role fields and defaults (``path_roles.go``),
the name checks of ``issuing/issue_common.go`` (``ValidateNames``: localhost,
``allowed_domains`` with bare/sub/glob matching, wildcards, hostname syntax,
IP SANs), the TTL rule of ``GetCertificateNotAfter`` (request ``ttl``, else
the role's, else the mount default; capped at the role's ``max_ttl``, else
the mount max, with Vault's warning; refused past the CA's own expiry) and
the answer of ``path_issue_sign.go`` (``certificate``, ``issuing_ca``,
``ca_chain``, ``private_key``, ``private_key_type``, ``serial_number``,
``expiration``). Errors are Vault's texts (``unknown role: X``, ``common
name X not allowed by this role``, ...) as 400s.

Deviations, on purpose (a test server): the engine is mounted from the
start with a root CA made by ``cryptography`` (EC P-256, ten years) instead
of ``secrets enable pki`` + ``root/generate/internal``; one issuer; no
``sign``, CRL, OCSP, revocation, ACME or leases; issued certificates are not
stored; names are checked as ASCII (no IDNA conversion). Validity comes from
the server's virtual clock, so ``advance`` moves certificate times too.

The engine is four rooms: this module holds the CA, ``issue``, the CA reads
and the mount; ``pki_roles`` the roles, ``pki_names`` the name checks and
``pki_certificates`` keys, validity and certificate building.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from renewer.devserver.fields import get_str
from renewer.devserver.pki_certificates import (
    build_certificate,
    leaf_not_after,
    new_key,
    pem,
    utc_datetime,
    vault_serial,
)
from renewer.devserver.pki_names import validate_ip_sans, validate_names
from renewer.devserver.pki_roles import (
    PkiRole,
    handle_role_delete,
    handle_role_list,
    handle_role_read,
    handle_role_write,
    role_exists,
)
from renewer.devserver.protocol import Call, Operation, Reply, bad_request
from renewer.devserver.routing import Mount, Route

if TYPE_CHECKING:
    from renewer.devserver.state import State

CA_LIFETIME = 10 * 365 * 86400
CA_COMMON_NAME = "renewer dev server root CA"
_NAME = r"\w(?:[\w.@-]*\w)?"  # framework.GenericNameRegex


@dataclass
class PkiBackend:
    """The CA and the roles (mutable, under the state lock)."""

    now: float
    roles: dict[str, PkiRole] = field(default_factory=dict)
    ca_key: ec.EllipticCurvePrivateKey = field(init=False, repr=False)
    ca_cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
        public = self.ca_key.public_key()
        self.ca_cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(utc_datetime(self.now - 30))
            .not_valid_after(utc_datetime(self.now + CA_LIFETIME))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )

    @property
    def ca_pem(self) -> str:
        return pem(self.ca_cert)


def handle_issue(state: State, call: Call) -> Reply:
    """``POST pki/issue/:role``: a new key and a certificate for it, within the role."""
    backend = state.pki
    role_name = call.params["role"]
    role = backend.roles.get(role_name)
    if role is None:
        raise bad_request(f"unknown role: {role_name}")
    cn, dns, emails = validate_names(role, call)
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
    sans += [x509.RFC822Name(name) for name in emails]
    sans += [x509.IPAddress(address) for address in validate_ip_sans(role, call)]
    not_after, warnings = leaf_not_after(backend, role, call)
    key = new_key(role)
    serial = x509.random_serial_number()
    cert = build_certificate(
        backend, role, key, serial=serial, cn=cn, sans=sans, now=call.now, not_after=not_after
    )
    pkcs8 = get_str(call.data, "private_key_format") == "pkcs8"
    private_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8
        if pkcs8
        else serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return Reply(
        data={
            "certificate": pem(cert),
            "issuing_ca": backend.ca_pem,
            "ca_chain": [backend.ca_pem],
            "private_key": private_key.strip(),
            "private_key_type": role.key_type,
            "serial_number": vault_serial(serial),
            "expiration": int(not_after),
        },
        warnings=tuple(warnings),
    )


# --- CA reads (unauthenticated, as in Vault) --------------------------------------


def handle_cert_ca(state: State, call: Call) -> Reply:
    """``GET pki/cert/ca``: the CA certificate in ``data.certificate``."""
    return Reply(
        data={
            "certificate": state.pki.ca_pem,
            "revocation_time": 0,
            "revocation_time_rfc3339": "",
        }
    )


def handle_ca_pem(state: State, call: Call) -> Reply:
    """``GET pki/ca/pem``: the bare PEM, not JSON."""
    return Reply(
        body=(state.pki.ca_pem + "\n").encode(), content_type="application/pem-certificate-chain"
    )


_R, _C, _U, _D, _L = (
    Operation.READ,
    Operation.CREATE,
    Operation.UPDATE,
    Operation.DELETE,
    Operation.LIST,
)

PKI_MOUNT = Mount(
    prefix="pki/",
    mount_type="pki",
    routes=(
        Route("roles/?", {_L: handle_role_list}),
        Route(
            rf"roles/(?P<name>{_NAME})",
            {
                _R: handle_role_read,
                _C: handle_role_write,
                _U: handle_role_write,
                _D: handle_role_delete,
            },
            existence=role_exists,
        ),
        Route(rf"issue/(?P<role>{_NAME})", {_U: handle_issue}),
        Route("cert/ca", {_R: handle_cert_ca}, unauthenticated=True),
        Route("ca/pem", {_R: handle_ca_pem}, unauthenticated=True),
    ),
)
