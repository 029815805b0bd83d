"""The PKI engine's roles: what a role may hold, how a write changes it, and its CRUD.

A role is the policy of ``issue`` (which names, which key, how long), parsed
and defaulted as ``builtin/logical/pki/path_roles.go`` does. It is its own
room because it is plain settings and their validation, with no certificate
code in it; ``pki_names`` and ``pki_certificates`` read a ``PkiRole``, and
``pki`` mounts the handlers below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from renewer.devserver.fields import get_bool, get_duration, get_int, get_str, get_str_list
from renewer.devserver.protocol import NO_CONTENT, Call, Reply, bad_request, not_found

if TYPE_CHECKING:
    from renewer.devserver.state import State

_KEY_BITS = {"rsa": (2048, frozenset({2048, 3072, 4096})), "ec": (256, frozenset({256, 384, 521}))}
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


def role_exists(state: State, params: Mapping[str, str]) -> bool:
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
