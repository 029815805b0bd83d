"""ACL evaluation: which capabilities a set of parsed policies grants on a path.

As ``vault/acl.go`` does it. Pure: policies in, answers out; no store, no
clock. It is its own room apart from parsing (``policy``) because these are
the rules that decide every request, and they read best alone.

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
from collections.abc import Iterable
from dataclasses import dataclass

from renewer.devserver.policy import CAPABILITY_NAMES, Capability, Policy


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
        return sorted(
            name for name, bit in CAPABILITY_NAMES.items() if bits & bit and name != "deny"
        )


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
