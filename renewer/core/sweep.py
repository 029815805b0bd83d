"""Which of our earlier tokens a sweep may revoke.

Pure: values in, a tuple out. No Vault, no clock, no files.
Design: product.md §1.3, seed 003 ("anti-sprawl"), and the owner marks of
``renewer.core.owner``: the display name says a token looks like ours, the
marks say whose it is. Several devvms share one Vault and one README config
(same display name); a sweep must never revoke another machine's token.

* the **full scan** looks at every token in Vault, so it revokes only tokens
  marked as this machine's for this sink (:data:`BY_SCAN`), or not marked by
  any renewer at all (the seed's manual strays);
* the **ledger** sweep looks only at accessors this machine saw in its own
  file or minted itself (:data:`BY_LEDGER`), so it may also retire tokens of
  releases before the marks (``created-by: renewer``, machine unknown).

A token marked by another renewer is never revoked by either.
"""

from __future__ import annotations

from collections.abc import Iterable

from renewer.core.model import TokenInfo
from renewer.core.owner import Ownership, ownership

BY_SCAN = frozenset({Ownership.MINE, Ownership.UNMARKED})
BY_LEDGER = frozenset({Ownership.MINE, Ownership.UNMARKED, Ownership.LEGACY})


def is_stale(
    info: TokenInfo,
    *,
    our_display_name: str,
    keep_accessor: str,
    also_keep: frozenset[str] = frozenset(),
    owner: str = "",
    sink: str = "",
    may_revoke: frozenset[Ownership] = BY_SCAN,
) -> bool:
    """The seed's ``vtr_is_stale_periodic`` plus ownership: ours by name and by marks,
    known accessor, not a kept one.

    *also_keep* holds accessors of ours kept alive on purpose (a rotation's
    blue token during its grace period). *owner* and *sink* say who "we" are;
    without them every token another renewer marked is left alone.
    """
    return (
        bool(keep_accessor)
        and info.display_name == our_display_name
        and bool(info.accessor)
        and info.accessor != keep_accessor
        and info.accessor not in also_keep
        and ownership(info.metadata, owner=owner, sink=sink) in may_revoke
    )


def is_elsewhere(info: TokenInfo, *, our_display_name: str, owner: str, sink: str) -> bool:
    """Named like ours but marked by another renewer (machine, home or sink): never ours."""
    return (
        info.display_name == our_display_name
        and ownership(info.metadata, owner=owner, sink=sink) is Ownership.ELSEWHERE
    )


def select_stale(
    candidates: Iterable[TokenInfo],
    *,
    our_display_name: str,
    keep_accessor: str,
    also_keep: frozenset[str] = frozenset(),
    owner: str = "",
    sink: str = "",
    may_revoke: frozenset[Ownership] = BY_SCAN,
) -> tuple[str, ...]:
    """Return the accessors to revoke, without duplicates, in input order.

    A candidate is stale when Vault reports our display name for it (with
    the ``token-`` prefix Vault adds), its accessor is known, and it is not
    the token we keep, and its owner marks allow it (*may_revoke*). Policies are
    not compared, on purpose: anything named and marked like ours that is not
    current is left over from an earlier mint, even if its policies have
    changed since.

    Fail-safe cases, each pinned by a test:

    * an empty *keep_accessor* selects nothing. Not knowing which token is
      current is a reason to revoke none of them;
    * a candidate without an accessor is never selected;
    * any other display name is never selected. It may back someone's login;
    * a token another renewer marked (another machine, home or sink) is never
      selected, nor one outside *may_revoke*.
    """
    if not keep_accessor:
        return ()
    stale: list[str] = []
    for info in candidates:
        stale_here = is_stale(
            info,
            our_display_name=our_display_name,
            keep_accessor=keep_accessor,
            also_keep=also_keep,
            owner=owner,
            sink=sink,
            may_revoke=may_revoke,
        )
        if stale_here and info.accessor not in stale:
            stale.append(info.accessor)
    return tuple(stale)
