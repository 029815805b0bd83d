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
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from renewer.devserver.durations import go_duration_string
from renewer.devserver.fields import get_bool, get_duration, get_int, get_str, get_str_list
from renewer.devserver.protocol import NO_CONTENT, Call, Operation, Reply, bad_request, not_found
from renewer.devserver.routing import Mount, Route

if TYPE_CHECKING:
    from renewer.devserver.state import State

SYSTEM_TTL = 768 * 3600  # the mount's default and max lease TTL, as `vault server -dev`
CA_LIFETIME = 10 * 365 * 86400
CA_COMMON_NAME = "renewer dev server root CA"
_NAME = r"\w(?:[\w.@-]*\w)?"  # framework.GenericNameRegex
_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])"
_HOSTNAME = re.compile(rf"^(\*\.)?({_LABEL}\.)*{_LABEL}\.?$")
_WILD_LABEL = re.compile(rf"^(\*|\*{_LABEL}|{_LABEL}\*|{_LABEL}\*{_LABEL})$")
_KEY_BITS = {"rsa": (2048, frozenset({2048, 3072, 4096})), "ec": (256, frozenset({256, 384, 521}))}
_CURVES: Mapping[int, ec.EllipticCurve] = {
    256: ec.SECP256R1(),
    384: ec.SECP384R1(),
    521: ec.SECP521R1(),
}
_KEY_USAGES = ("DigitalSignature", "KeyAgreement", "KeyEncipherment")


@dataclass(frozen=True, slots=True)
class PkiRole:
    """A role's settings (the subset this engine honours), durations in seconds."""

    ttl: int = 0
    max_ttl: int = 0
    allowed_domains: tuple[str, ...] = ()
    allow_localhost: bool = True
    allow_bare_domains: bool = False
    allow_subdomains: bool = False
    allow_glob_domains: bool = False
    allow_wildcard_certificates: bool = True
    allow_any_name: bool = False
    enforce_hostnames: bool = True
    allow_ip_sans: bool = True
    server_flag: bool = True
    client_flag: bool = True
    key_type: str = "rsa"
    key_bits: int = 2048
    key_usage: tuple[str, ...] = _KEY_USAGES
    require_cn: bool = True
    not_before_duration: int = 30
    no_store: bool = False
    generate_lease: bool = False

    def response(self) -> dict[str, Any]:
        """``ToResponseData``: lists as lists, durations as whole seconds."""
        data = asdict(self)
        data["allowed_domains"] = list(self.allowed_domains)
        data["key_usage"] = list(self.key_usage)
        data["ext_key_usage"] = []
        data["issuer_ref"] = "default"
        return data


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
            .not_valid_before(_moment(self.now - 30))
            .not_valid_after(_moment(self.now + CA_LIFETIME))
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
        return _pem(self.ca_cert)


def _moment(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode().strip()


def _serial(number: int) -> str:
    """Vault's colon-separated lower-case hex (``39:dd:2e:...``)."""
    text = f"{number:x}"
    text = text.rjust(len(text) + len(text) % 2, "0")
    return ":".join(text[i : i + 2] for i in range(0, len(text), 2))


# --- roles ---------------------------------------------------------------------


def _role_from(call: Call, current: PkiRole | None) -> PkiRole:
    role = current or PkiRole()
    data = call.data
    changes: dict[str, Any] = {}
    for name in ("ttl", "max_ttl", "not_before_duration"):
        if name in data:
            changes[name] = get_duration(data, name)
    for name in (
        "allow_localhost",
        "allow_bare_domains",
        "allow_subdomains",
        "allow_glob_domains",
        "allow_wildcard_certificates",
        "allow_any_name",
        "enforce_hostnames",
        "allow_ip_sans",
        "server_flag",
        "client_flag",
        "require_cn",
        "no_store",
        "generate_lease",
    ):
        if name in data:
            changes[name] = get_bool(data, name)
    for name in ("allowed_domains", "key_usage"):
        if name in data:
            changes[name] = tuple(get_str_list(data, name) or ())
    if "key_type" in data:
        changes["key_type"] = get_str(data, "key_type")
    key_type = changes.get("key_type", role.key_type)
    if key_type not in _KEY_BITS:
        raise bad_request(f"unknown key_type value: {key_type}")
    if "key_bits" in data or "key_type" in data:
        default, allowed = _KEY_BITS[key_type]
        bits = get_int(data, "key_bits") or default
        if bits not in allowed:
            raise bad_request(f"unsupported bit length for {key_type.upper()} key: {bits}")
        changes["key_bits"] = bits
    new = replace(role, **changes)
    if new.max_ttl and new.ttl > new.max_ttl:
        raise bad_request('"ttl" value must be less than "max_ttl" value')
    return new


def _role_exists(state: State, params: Mapping[str, str]) -> bool:
    return params["name"] in state.pki.roles


def handle_role_write(state: State, call: Call) -> Reply:
    """``POST pki/roles/:name``: create or update; answers the role (Vault ≥ 1.12)."""
    name = call.params["name"]
    role = _role_from(call, state.pki.roles.get(name))
    state.pki.roles[name] = role
    return Reply(data=role.response())


def handle_role_read(state: State, call: Call) -> Reply:
    """``GET pki/roles/:name``; a missing role is a plain 404."""
    role = state.pki.roles.get(call.params["name"])
    if role is None:
        raise not_found()
    return Reply(data=role.response())


def handle_role_delete(state: State, call: Call) -> Reply:
    """``DELETE pki/roles/:name`` (204 whether or not it existed)."""
    state.pki.roles.pop(call.params["name"], None)
    return NO_CONTENT


def handle_role_list(state: State, call: Call) -> Reply:
    """``LIST pki/roles``; none is a 404, as every Vault list."""
    if not state.pki.roles:
        raise not_found()
    return Reply(data={"keys": sorted(state.pki.roles)})


# --- names (issuing/issue_common.go ValidateNames) ------------------------------


def _glob(pattern: str, name: str) -> bool:
    """go-glob: ``*`` matches any run of characters, dots included."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, name, re.DOTALL) is not None


@dataclass(frozen=True, slots=True)
class _Name:
    """A requested name split the way ``ValidateNames`` looks at it."""

    name: str
    reduced: str  # without the email user part and the wildcard label
    email_domain: str
    wildcard_label: str
    is_email: bool
    is_wildcard: bool


def _split_name(role: PkiRole, name: str) -> _Name | None:
    """The parts of *name*, or None when its shape alone makes it unacceptable."""
    reduced, is_email = name, "@" in name
    if is_email:
        parts = name.split("@")
        if len(parts) != 2:
            return None
        reduced = parts[1]
    email_domain, wildcard_label, is_wildcard = reduced, "", "*" in reduced
    if is_wildcard:
        if not role.allow_wildcard_certificates or reduced.count("*") > 1 or is_email:
            return None
        wildcard_label, _, reduced = reduced.partition(".")
        if "*" in reduced:
            return None
    return _Name(name, reduced, email_domain, wildcard_label, is_email, is_wildcard)


def _hostname_ok(role: PkiRole, name: _Name) -> bool:
    if not role.enforce_hostnames:
        return True
    if name.reduced and (not name.reduced.isascii() or not _HOSTNAME.match(name.reduced)):
        return False
    return not name.is_wildcard or bool(_WILD_LABEL.match(name.wildcard_label))


def _localhost_ok(role: PkiRole, name: _Name) -> bool:
    if not role.allow_localhost:
        return False
    if name.reduced in {"localhost", "localdomain"}:
        return True
    return role.allow_subdomains and (
        name.reduced.endswith((".localhost", ".localdomain"))
        or (name.is_wildcard and name.reduced in {"localhost", "localdomain"})
    )


def _domain_ok(role: PkiRole, name: _Name, domain: str) -> bool:
    lowered = domain.lower()
    if role.allow_bare_domains and (
        name.name.lower() == lowered or (name.is_email and name.email_domain.lower() == lowered)
    ):
        return True
    if role.allow_subdomains and (
        name.reduced.endswith("." + domain)
        or (name.is_wildcard and name.reduced.lower() == lowered)
    ):
        return True
    return role.allow_glob_domains and "*" in domain and _glob(lowered, name.name.lower())


def _bad_name(role: PkiRole, text: str) -> bool:
    """True when *text* is not allowed by *role* (Vault's ``ValidateNames`` for one name)."""
    name = _split_name(role, text)
    if name is None or not _hostname_ok(role, name):
        return True
    if role.allow_any_name or _localhost_ok(role, name):
        return False
    return not any(_domain_ok(role, name, domain) for domain in role.allowed_domains if domain)


def _is_dns_name(name: str) -> bool:
    return name.isascii() and _HOSTNAME.match(name) is not None


def _names(role: PkiRole, call: Call) -> tuple[str, list[str], list[str]]:
    """(common name, DNS names, email addresses), checked against the role."""
    cn = get_str(call.data, "common_name")
    if not cn and role.require_cn:
        raise bad_request(
            "the common_name field is required, or must be provided in a CSR with "
            '"use_csr_common_name" set to true, unless "require_cn" is set to false'
        )
    dns: list[str] = []
    emails: list[str] = []
    if cn and not get_bool(call.data, "exclude_cn_from_sans"):
        if "@" in cn:
            emails.append(cn)
        elif _is_dns_name(cn):
            dns.append(cn)
    for alt in sorted(set(get_str_list(call.data, "alt_names") or [])):
        if "@" in alt:
            emails.append(alt)
        elif _is_dns_name(alt):
            dns.append(alt)
    if cn and _bad_name(role, cn):
        raise bad_request(f"common name {cn} not allowed by this role")
    for name in dns:
        if _bad_name(role, name):
            raise bad_request(f"subject alternate name {name} not allowed by this role")
    for name in emails:
        if _bad_name(role, name):
            raise bad_request(f"email address {name} not allowed by this role")
    return cn, list(dict.fromkeys(dns)), list(dict.fromkeys(emails))


def _ip_sans(role: PkiRole, call: Call) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    raw = get_str_list(call.data, "ip_sans") or []
    if raw and not role.allow_ip_sans:
        raise bad_request(
            "IP Subject Alternative Names are not allowed in this role, "
            f"but was provided [{' '.join(raw)}]"
        )
    addresses = []
    for value in raw:
        try:
            addresses.append(ipaddress.ip_address(value))
        except ValueError:
            raise bad_request(f'the value "{value}" is not a valid IP address') from None
    return addresses


# --- issue -----------------------------------------------------------------------


def _not_after(backend: PkiBackend, role: PkiRole, call: Call) -> tuple[float, list[str]]:
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
            f"cannot satisfy request, as TTL would result in notAfter of {_rfc3339(not_after)} "
            f"that is beyond the expiration of the CA certificate at {_rfc3339(ca_not_after)}"
        )
    return not_after, warnings


def _rfc3339(timestamp: float) -> str:
    moment = _moment(timestamp)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _new_key(role: PkiRole) -> PrivateKey:
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


def handle_issue(state: State, call: Call) -> Reply:
    """``POST pki/issue/:role``: a new key and a certificate for it, within the role."""
    backend = state.pki
    role_name = call.params["role"]
    role = backend.roles.get(role_name)
    if role is None:
        raise bad_request(f"unknown role: {role_name}")
    cn, dns, emails = _names(role, call)
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
    sans += [x509.RFC822Name(name) for name in emails]
    sans += [x509.IPAddress(address) for address in _ip_sans(role, call)]
    not_after, warnings = _not_after(backend, role, call)
    key = _new_key(role)
    serial = x509.random_serial_number()
    cert = _build(
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
            "certificate": _pem(cert),
            "issuing_ca": backend.ca_pem,
            "ca_chain": [backend.ca_pem],
            "private_key": private_key.strip(),
            "private_key_type": role.key_type,
            "serial_number": _serial(serial),
            "expiration": int(not_after),
        },
        warnings=tuple(warnings),
    )


def _build(
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
        .not_valid_before(_moment(now - role.not_before_duration))
        .not_valid_after(_moment(not_after))
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
            existence=_role_exists,
        ),
        Route(rf"issue/(?P<role>{_NAME})", {_U: handle_issue}),
        Route("cert/ca", {_R: handle_cert_ca}, unauthenticated=True),
        Route("ca/pem", {_R: handle_ca_pem}, unauthenticated=True),
    ),
)
