"""ACL policies: parsing (HCL and JSON) and evaluation, as ``vault/acl.go`` does it.

Pure: text in, values out; no store, no clock.

Rules of evaluation (each pinned by a unit test):

1. Rules for the *same* path string from several policies merge: capabilities
   are OR-ed, and ``deny`` in any of them leaves only ``deny``.
2. An exact rule for the request path wins outright. For LIST, the path without
   its trailing ``/`` is tried as an exact rule too.
3. Otherwise the candidates are the longest plain ``*`` prefix rule and every
   ``+`` segment rule that matches. The most specific wins, compared in this
   order: later first wildcard/glob; not a prefix; fewer ``+`` segments; longer
   pattern; lexicographically smaller. Only the winner's capabilities count:
   rules are never combined across different paths.
4. ``deny`` beats everything in the winning rule; no match at all is a denial.
5. ``sudo`` is a capability like the others; whether a path needs it is the
   router's business (see ``ROOT_PATHS`` in app.py), not the policy's.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
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


_NAMES = {
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
        if not isinstance(name, str) or name.lower() not in _NAMES:
            raise PolicyError(f'path "{path}": invalid capability "{name}"')
        bits |= _NAMES[name.lower()]
    if bits & Capability.DENY:
        bits = Capability.DENY
    return PathRule(path=path.removeprefix("/"), capabilities=bits)


def merge(existing: Capability, new: Capability) -> Capability:
    """Merge two rules for the same path string: union, but ``deny`` is absorbing."""
    if (existing | new) & Capability.DENY:
        return Capability.DENY
    return existing | new


@dataclass(frozen=True, slots=True)
class _Candidate:
    first_wildcard: int
    is_prefix: bool
    wildcards: int
    pattern: str
    capabilities: Capability


def _less(left: _Candidate, right: _Candidate) -> int:
    """``sort.Slice`` order of acl.go: negative when *left* has lower priority."""
    if left.first_wildcard != right.first_wildcard:
        return -1 if left.first_wildcard < right.first_wildcard else 1
    if left.is_prefix != right.is_prefix:
        return -1 if left.is_prefix else 1
    if left.wildcards != right.wildcards:
        return -1 if left.wildcards > right.wildcards else 1
    if len(left.pattern) != len(right.pattern):
        return -1 if len(left.pattern) < len(right.pattern) else 1
    if left.pattern != right.pattern:
        return -1 if left.pattern > right.pattern else 1
    return 0


class ACL:
    """The merged rules of a set of policies, ready to answer per request.

    Build once per distinct policy set and reuse: construction is linear in
    the rules, evaluation is a dict lookup plus a walk over the path length
    (and over the ``+`` rules, of which real policies have few).
    """

    __slots__ = ("_exact", "_prefix", "_segment", "is_root")

    def __init__(self, policies: Iterable[Policy], *, is_root: bool = False) -> None:
        self.is_root = is_root
        self._exact: dict[str, Capability] = {}
        self._prefix: dict[str, Capability] = {}
        self._segment: dict[str, Capability] = {}
        for policy in policies:
            for rule in policy.rules:
                table, key = self._table_for(rule.path)
                table[key] = merge(table.get(key, Capability(0)), rule.capabilities)

    def _table_for(self, path: str) -> tuple[dict[str, Capability], str]:
        if "+" in path:  # acl.go: any '+' makes it a segment-wildcard rule
            return self._segment, path
        if path.endswith("*"):
            return self._prefix, path[:-1]
        return self._exact, path

    def capabilities_for(self, path: str, *, is_list: bool = False) -> Capability | None:
        """The winning rule's capabilities for *path*, or None when no rule matches."""
        exact = self._exact.get(path)
        if exact is None and is_list:
            exact = self._exact.get(path.removesuffix("/"))
        if exact is not None:
            return exact
        candidates = self._segment_candidates(path)
        prefix = self._longest_prefix(path)
        if prefix is not None:
            candidates.append(prefix)
        if not candidates:
            return None
        return max(candidates, key=functools.cmp_to_key(_less)).capabilities

    def _longest_prefix(self, path: str) -> _Candidate | None:
        if not self._prefix:
            return None
        for end in range(len(path), -1, -1):
            bits = self._prefix.get(path[:end])
            if bits is not None:
                return _Candidate(end, True, 0, path[:end], bits)
        return None

    def _segment_candidates(self, path: str) -> list[_Candidate]:
        found: list[_Candidate] = []
        parts = path.split("/")
        for pattern, bits in self._segment.items():
            candidate = _match_segments(pattern, parts, bits)
            if candidate is not None:
                found.append(candidate)
        return found

    def allows(self, capability: Capability, path: str, *, is_list: bool = False) -> bool:
        """Whether the winning rule grants *capability* (never true under ``deny``)."""
        if self.is_root:
            return True
        bits = self.capabilities_for(path, is_list=is_list)
        if bits is None or bits & Capability.DENY:
            return False
        return bool(bits & capability)

    def has_sudo(self, path: str, *, is_list: bool = False) -> bool:
        """Root, or ``sudo`` in the winning rule for *path*."""
        return self.allows(Capability.SUDO, path, is_list=is_list)

    def capability_names(self, path: str) -> list[str]:
        """What ``sys/capabilities-self`` reports: sorted names, ``root`` or ``deny``."""
        if self.is_root:
            return ["root"]
        bits = self.capabilities_for(path)
        if bits is None or bits & Capability.DENY or not bits:
            return ["deny"]
        return sorted(name for name, bit in _NAMES.items() if bits & bit and name != "deny")


def _match_segments(pattern: str, parts: list[str], bits: Capability) -> _Candidate | None:
    is_prefix = pattern.endswith("*")
    body = pattern[:-1] if is_prefix else pattern
    pattern_parts = body.split("/")
    if len(parts) < len(pattern_parts):
        return None
    if not is_prefix and len(parts) != len(pattern_parts):
        return None
    wildcards = 0
    last = len(pattern_parts) - 1
    for index, part in enumerate(pattern_parts):
        if part == "+":
            wildcards += 1
        elif part == parts[index]:
            continue
        elif not (is_prefix and index == last and parts[index].startswith(part)):
            return None
    return _Candidate(pattern.find("+"), is_prefix, wildcards, body, bits)


DEFAULT_POLICY_TEXT = """
# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own entity by id or name
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}
path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}


# Allow a token to look up its resultant ACL from all policies. This is useful
# for UIs. It is an internal path because the format may change at any time
# based on how the internal ACL features and capabilities change.
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Allow a token to renew a lease via lease_id in the request body; old path for
# old clients, new path for newer
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties. This requires knowing the lease ID ahead
# of time and does not divulge any sensitive information.
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}

# Allow a token to look up the creation time and TTL of a given
# response-wrapping token
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}

# Allow a token to unwrap a response-wrapping token. This is a convenience to
# avoid client token swapping since this is also part of the response wrapping
# policy.
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}

# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}

# Allow checking the status of a Control Group request if the user has the
# accessor
path "sys/control-group/request" {
    capabilities = ["update"]
}

# Allow a token to make requests to the Authorization Endpoint for OIDC providers.
path "identity/oidc/provider/+/authorize" {
    capabilities = ["read", "update"]
}
"""
"""The ``default`` policy as Vault 1.15+ ships it (``vault/policy_store.go``).

The identity paths are templated; the dev server has no entities, so they
never match anything here, exactly as for a token without an entity in Vault.
"""

RESPONSE_WRAPPING_POLICY_TEXT = """
path "cubbyhole/response" {
    capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}
"""
"""Vault's fixed ``response-wrapping`` policy; stored but never assignable."""
