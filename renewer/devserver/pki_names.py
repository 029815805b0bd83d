"""Which names a PKI role lets ``issue`` put in a certificate (``ValidateNames``).

Follows ``builtin/logical/pki/issuing/issue_common.go``: localhost,
``allowed_domains`` with bare/sub/glob matching, wildcards, hostname syntax
and IP SANs, with Vault's error texts as 400s. Names are checked as ASCII
(no IDNA conversion). It is its own room because it is pure string rules
over a role and a request, the part of the engine most worth reading alone;
``pki.handle_issue`` calls ``validate_names`` and ``validate_ip_sans``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from renewer.devserver.fields import get_bool, get_str, get_str_list
from renewer.devserver.pki_roles import PkiRole
from renewer.devserver.protocol import Call, bad_request

_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])"
_HOSTNAME = re.compile(rf"^(\*\.)?({_LABEL}\.)*{_LABEL}\.?$")
_WILD_LABEL = re.compile(rf"^(\*|\*{_LABEL}|{_LABEL}\*|{_LABEL}\*{_LABEL})$")


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


def validate_names(role: PkiRole, call: Call) -> tuple[str, list[str], list[str]]:
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


def validate_ip_sans(
    role: PkiRole, call: Call
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
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
