"""Mounts and routes: which handler serves a path, for which operations.

Vault routes in two steps: the longest mount prefix picks a backend (no mount
→ 404 ``no handler for route``), then the backend's path patterns pick a
handler (no pattern → 404 ``unsupported path``, pattern without the operation
→ 405 ``unsupported operation``). Both refusals happen *after* the token
check, as in Vault, so an anonymous probe of an unknown path still gets 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from renewer.devserver.protocol import Call, Operation, Reply

if TYPE_CHECKING:
    from renewer.devserver.state import State

_LITERAL = re.compile(r"[A-Za-z0-9_/-]+")
Handler = Callable[["State", Call], Reply]
ExistenceCheck = Callable[["State", Mapping[str, str]], bool]


@dataclass(frozen=True, slots=True)
class Route:
    """A path pattern (relative to the mount) and its handlers by operation.

    *existence* makes POST/PUT a ``create`` (thing absent) or an ``update``
    (thing present), which is what the ACL then checks, as Vault's
    ``ExistenceCheck`` does for KV. Routes without one treat POST/PUT as update.
    """

    pattern: str
    handlers: Mapping[Operation, Handler]
    unauthenticated: bool = False
    existence: ExistenceCheck | None = None
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.pattern + r"\Z", re.DOTALL))


@dataclass(frozen=True, slots=True)
class Mount:
    """A backend at a path prefix (ending in ``/``), and its ``mount_type``."""

    prefix: str
    mount_type: str
    routes: Sequence[Route]


@dataclass(frozen=True, slots=True)
class Match:
    """Result of routing: the mount always, the route and params when a pattern matched."""

    mount: Mount
    route: Route | None
    params: Mapping[str, str]


class Router:
    """Longest-prefix mount selection, then first matching route pattern."""

    def __init__(self, mounts: Sequence[Mount]) -> None:
        self._mounts = sorted(mounts, key=lambda mount: len(mount.prefix), reverse=True)
        # Fast path for literal routes (most token-store paths): one dict lookup.
        self._literal: dict[str, Match] = {}
        for mount in self._mounts:
            for route in mount.routes:
                if _LITERAL.fullmatch(route.pattern):
                    self._literal.setdefault(mount.prefix + route.pattern, Match(mount, route, {}))

    def match(self, path: str) -> Match | None:
        """None when no mount serves *path* at all."""
        literal = self._literal.get(path)
        if literal is not None:
            return literal
        for mount in self._mounts:
            if path.startswith(mount.prefix) or path == mount.prefix.rstrip("/"):
                rest = path[len(mount.prefix) :]
                for route in mount.routes:
                    found = route.compiled.match(rest)
                    if found is not None:
                        return Match(mount, route, found.groupdict())
                return Match(mount, None, {})
        return None
