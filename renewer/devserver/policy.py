"""ACL policies: parsing HCL and JSON policy text into rules, as ``ParseACLPolicy`` does.

Pure: text in, values out; no store, no clock. What the parsed rules grant
is ``policy_acl``'s business; the built-in policies' texts are in
``policy_builtin``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntFlag

from renewer.devserver.hcl import HclError, parse_hcl


class Capability(IntFlag):
    """Vault's capability bits (``vault/policy.go``)."""

    DENY = 1
    CREATE = 2
    READ = 4
    UPDATE = 8
    DELETE = 16
    LIST = 32
    SUDO = 64
    PATCH = 256
    SUBSCRIBE = 512


CAPABILITY_NAMES = {
    "deny": Capability.DENY,
    "create": Capability.CREATE,
    "read": Capability.READ,
    "update": Capability.UPDATE,
    "delete": Capability.DELETE,
    "list": Capability.LIST,
    "sudo": Capability.SUDO,
    "patch": Capability.PATCH,
    "subscribe": Capability.SUBSCRIBE,
}
_WRITE = (
    Capability.CREATE | Capability.READ | Capability.UPDATE | Capability.DELETE | Capability.LIST
)
# The pre-0.5 ``policy = "..."`` shorthand, still accepted by Vault.
_LEGACY = {
    "deny": Capability.DENY,
    "read": Capability.READ | Capability.LIST,
    "write": _WRITE,
    "sudo": _WRITE | Capability.SUDO,
}
_PATH_KEYS = frozenset(
    {
        "comment",
        "policy",
        "capabilities",
        "allowed_parameters",
        "denied_parameters",
        "required_parameters",
        "min_wrapping_ttl",
        "max_wrapping_ttl",
        "control_group",
        "mfa_methods",
        "subscribe_event_types",
    }
)


class PolicyError(ValueError):
    """Policy text Vault would refuse to store."""


@dataclass(frozen=True, slots=True)
class PathRule:
    """One ``path "..." { capabilities = [...] }`` stanza."""

    path: str
    capabilities: Capability


@dataclass(frozen=True, slots=True)
class Policy:
    """A named, parsed ACL policy; *raw* is the text exactly as written."""

    name: str
    raw: str
    rules: tuple[PathRule, ...]


def parse_policy(name: str, raw: str) -> Policy:
    """Parse HCL or JSON policy text, as ``ParseACLPolicy`` accepts both."""
    try:
        body = _parse_body(raw)
        rules = tuple(_rule(path, stanza) for path, stanza in _path_stanzas(body))
    except (HclError, PolicyError) as exc:
        raise PolicyError(f"failed to parse policy: {exc}") from None
    return Policy(name=name, raw=raw, rules=rules)


def _parse_body(raw: str) -> dict[str, object]:
    stripped = raw.lstrip()
    if stripped.startswith("{"):
        try:
            decoded = json.loads(raw)
        except ValueError as exc:
            raise PolicyError(f"invalid JSON: {exc}") from None
        if not isinstance(decoded, dict):
            raise PolicyError("policy JSON must be an object")
        return decoded
    return parse_hcl(raw)


def _path_stanzas(body: Mapping[str, object]) -> list[tuple[str, Mapping[str, object]]]:
    for key in body:
        if key not in ("path", "name"):
            raise PolicyError(f'invalid key "{key}"')
    paths = body.get("path", [])
    if isinstance(paths, dict):  # JSON form: {"path": {"a/*": {...}}}
        return [(str(k), _as_mapping(v)) for k, v in paths.items()]
    if isinstance(paths, list):  # HCL form: [(label, body), ...]
        stanzas: list[tuple[str, Mapping[str, object]]] = []
        for item in paths:
            if not isinstance(item, tuple) or not isinstance(item[0], str):
                raise PolicyError("path stanzas need exactly one label")
            stanzas.append((item[0], _as_mapping(item[1])))
        return stanzas
    raise PolicyError("'path' must be a block or an object")


def _as_mapping(value: object) -> Mapping[str, object]:
    if isinstance(value, list) and len(value) == 1:  # JSON may wrap a stanza in a list
        value = value[0]
    if not isinstance(value, dict):
        raise PolicyError("path stanza must be an object")
    return value


def _rule(path: str, stanza: Mapping[str, object]) -> PathRule:
    for key in stanza:
        if key not in _PATH_KEYS:
            raise PolicyError(f'path "{path}": invalid key "{key}"')
    if "+*" in path:
        raise PolicyError(f"path {path!r}: invalid use of wildcards ('+*' is forbidden)")
    bits = Capability(0)
    legacy = stanza.get("policy")
    if legacy is not None:
        if not isinstance(legacy, str) or legacy not in _LEGACY:
            raise PolicyError(f'path "{path}": invalid policy "{legacy}"')
        bits |= _LEGACY[legacy]
    capabilities = stanza.get("capabilities", [])
    if not isinstance(capabilities, list):
        raise PolicyError(f'path "{path}": capabilities must be a list')
    for name in capabilities:
        if not isinstance(name, str) or name.lower() not in CAPABILITY_NAMES:
            raise PolicyError(f'path "{path}": invalid capability "{name}"')
        bits |= CAPABILITY_NAMES[name.lower()]
    if bits & Capability.DENY:
        bits = Capability.DENY
    return PathRule(path=path.removeprefix("/"), capabilities=bits)
