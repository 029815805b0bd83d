"""The token store: tokens by id and accessor, the parent/child tree, leases.

Follows ``vault/token_store.go`` and ``vault/expiration.go``. Rules:

1. Every token except the command-line root token has a lease. Its
   ``expire_time`` is 0 for non-expiring root tokens; otherwise the token is
   revoked, with its whole subtree, once the clock reaches it.
2. Expiry is applied lazily but completely: a min-heap of expiry times is
   drained at the start of every operation (``reap``), so no request ever
   sees an expired token, and nothing scans all tokens.
3. Revocation is depth-first over children; ``revoke_orphan`` only clears
   the direct children's parent.
4. Entries are frozen; a renewal or a use replaces the entry.

Not thread-safe by itself: the app serialises requests around one lock.

The records it holds (``TokenEntry``, ``Lease``), new ids and the JSON
shapes of a token are in ``tokens``; this module is the store's behaviour
alone: indexing, expiry, revocation, uses and renewal.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from renewer.devserver.protocol import ApiError, bad_request
from renewer.devserver.tokens import RenewParams, TokenEntry, TokenType
from renewer.devserver.ttl import MAX_LEASE_TTL, PastMaxTTL, TTLInputs, calculate_ttl

REVOCATION_PENDING = -1
"""``num_uses`` of a token serving its last use; Vault revokes it after the request."""


RenewHook = Callable[[TokenEntry], RenewParams]
"""Re-reads an auth method's settings at renewal (AppRole re-reads its role)."""


@dataclass(frozen=True, slots=True)
class Renewal:
    """A renewed token and the capping warnings to return."""

    entry: TokenEntry
    ttl: int
    warnings: tuple[str, ...]


class TokenStore:
    """All tokens of the server, indexed for O(1) lookup by id and accessor."""

    def __init__(self) -> None:
        self._by_id: dict[str, TokenEntry] = {}
        self._by_accessor: dict[str, str] = {}
        self._children: dict[str, set[str]] = {}
        self._expiries: list[tuple[float, str]] = []
        self.renew_hooks: dict[str, RenewHook] = {}
        self.max_lease_ttl = 0  # the token mount's tuned max TTL (sys/auth/token/tune); 0: system

    # -- reading -----------------------------------------------------------

    def get(self, token_id: str, now: float) -> TokenEntry | None:
        """The live token with this id, or None (unknown, revoked, expired, used up).

        A token on its last use (``num_uses == -1``, Vault's
        ``tokenRevocationPending``) is already invisible here, as in ``Lookup``.
        """
        entry = self.get_tainted(token_id, now)
        return entry if entry is not None and entry.num_uses >= 0 else None

    def get_tainted(self, token_id: str, now: float) -> TokenEntry | None:
        """Like ``get`` but also returns a token pending revocation (``lookupInternal``)."""
        self.reap(now)
        return self._by_id.get(token_id)

    def get_by_accessor(self, accessor: str, now: float) -> TokenEntry | None:
        """The live token with this accessor, or None."""
        self.reap(now)
        token_id = self._by_accessor.get(accessor)
        return self._by_id.get(token_id) if token_id is not None else None

    def accessors(self, now: float) -> list[str]:
        """Accessors of all live service tokens, in creation order."""
        self.reap(now)
        return list(self._by_accessor)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[TokenEntry]:
        return iter(list(self._by_id.values()))

    # -- writing -----------------------------------------------------------

    def add(self, entry: TokenEntry) -> None:
        """Store a new token; a duplicate id is refused like Vault does."""
        if entry.id in self._by_id:
            raise bad_request("cannot create a token with a duplicate ID")
        self._by_id[entry.id] = entry
        if entry.accessor:
            self._by_accessor[entry.accessor] = entry.id
        if entry.parent:
            self._children.setdefault(entry.parent, set()).add(entry.id)
        self._schedule(entry)

    def _schedule(self, entry: TokenEntry) -> None:
        if entry.lease is not None and entry.lease.expire_time > 0:
            heapq.heappush(self._expiries, (entry.lease.expire_time, entry.id))

    def reap(self, now: float) -> None:
        """Revoke every token whose lease has run out, with its subtree."""
        while self._expiries and self._expiries[0][0] <= now:
            expire_time, token_id = heapq.heappop(self._expiries)
            entry = self._by_id.get(token_id)
            if entry is None or entry.lease is None:
                continue
            if entry.lease.expire_time == expire_time:  # else renewed since: stale heap item
                self.revoke_tree(token_id)

    def revoke_tree(self, token_id: str) -> int:
        """Revoke a token and all its descendants, children first. Returns the count."""
        revoked = 0
        stack = [token_id]
        order: list[str] = []
        while stack:
            current = stack.pop()
            order.append(current)
            stack.extend(self._children.get(current, ()))
        for current in reversed(order):
            revoked += self._remove(current)
        return revoked

    def revoke_orphan(self, token_id: str) -> None:
        """Revoke one token; its direct children live on as orphans."""
        for child_id in self._children.pop(token_id, set()):
            child = self._by_id.get(child_id)
            if child is not None:
                self._by_id[child_id] = replace(child, parent="")
        self._remove(token_id)

    def _remove(self, token_id: str) -> int:
        entry = self._by_id.pop(token_id, None)
        if entry is None:
            return 0
        if entry.accessor:
            self._by_accessor.pop(entry.accessor, None)
        if entry.parent and (siblings := self._children.get(entry.parent)) is not None:
            siblings.discard(token_id)
            if not siblings:
                del self._children[entry.parent]
        self._children.pop(token_id, None)
        return 1

    def use(self, entry: TokenEntry) -> tuple[TokenEntry, bool]:
        """Spend one use of a limited-use token (``UseToken``).

        Returns the updated entry and whether this was its last use. Then
        ``num_uses`` becomes ``REVOCATION_PENDING``, ``get`` stops finding the
        token, and the caller revokes it once the request is done.
        """
        if entry.num_uses <= 0:
            return entry, False
        last = entry.num_uses == 1
        updated = replace(entry, num_uses=REVOCATION_PENDING if last else entry.num_uses - 1)
        self._by_id[entry.id] = updated
        return updated, last

    def renew(self, entry: TokenEntry, *, increment: int, now: float) -> Renewal:
        """Renew a token's lease like ``ExpirationManager.RenewToken``."""
        if entry.type is TokenType.BATCH:
            raise bad_request("batch tokens cannot be renewed")
        lease = entry.lease
        if lease is None:
            raise bad_request("invalid lease ID")
        if lease.expire_time == 0 or not lease.renewable:
            raise bad_request("lease is not renewable")
        if lease.expire_time <= now:
            raise bad_request("lease expired")
        params = self._renew_params(entry)
        inputs = TTLInputs(
            increment=increment,
            backend_ttl=params.backend_ttl,
            period=params.period,
            backend_max_ttl=params.backend_max_ttl,
            explicit_max_ttl=params.explicit_max_ttl,
            system_max_ttl=self.mount_max_ttl(entry),
        )
        try:
            decision = calculate_ttl(inputs, now=now, start=lease.issue_time)
        except PastMaxTTL as exc:
            raise ApiError(500, str(exc)) from None
        new_lease = replace(
            lease, ttl=decision.ttl, expire_time=now + decision.ttl, last_renewal=now
        )
        updated = replace(entry, lease=new_lease)
        self._by_id[entry.id] = updated
        self._schedule(updated)
        return Renewal(entry=updated, ttl=decision.ttl, warnings=decision.warnings)

    def mount_max_ttl(self, entry: TokenEntry | None = None) -> int:
        """The max TTL of the mount that issued *entry* (None: the token store itself)."""
        if entry is not None and entry.path in self.renew_hooks:
            return MAX_LEASE_TTL  # another auth mount: not tunable here
        return self.max_lease_ttl or MAX_LEASE_TTL

    def _renew_params(self, entry: TokenEntry) -> RenewParams:
        assert entry.lease is not None
        hook = self.renew_hooks.get(entry.path)
        if hook is not None:
            return hook(entry)
        # The token store's own authRenew: the stored TTL, period and explicit max.
        return RenewParams(
            backend_ttl=entry.lease.ttl,
            backend_max_ttl=entry.lease.backend_max_ttl,
            period=entry.period,
            explicit_max_ttl=entry.explicit_max_ttl,
        )
