"""Which of our earlier tokens a sweep may revoke.

Pure: values in, a tuple out. No Vault, no clock, no files.
Design: product.md §1.3, seed 003 ("anti-sprawl").
"""

from __future__ import annotations

from collections.abc import Iterable

from renewer.core.model import TokenInfo


def is_stale(
    info: TokenInfo,
    *,
    our_display_name: str,
    keep_accessor: str,
    also_keep: frozenset[str] = frozenset(),
) -> bool:
    """The seed's ``vtr_is_stale_periodic``: ours by name, known accessor, not a kept one.

    *also_keep* holds accessors of ours kept alive on purpose (a rotation's
    blue token during its grace period).
    """
    return (
        bool(keep_accessor)
        and info.display_name == our_display_name
        and bool(info.accessor)
        and info.accessor != keep_accessor
        and info.accessor not in also_keep
    )


def select_stale(
    candidates: Iterable[TokenInfo],
    *,
    our_display_name: str,
    keep_accessor: str,
    also_keep: frozenset[str] = frozenset(),
) -> tuple[str, ...]:
    """Return the accessors to revoke, without duplicates, in input order.

    A candidate is stale when Vault reports our display name for it (with
    the ``token-`` prefix Vault adds), its accessor is known, and it is not
    the token we keep. The match is on the name alone, on purpose: anything
    named like ours that is not current is left over from an earlier mint,
    even if its policies have changed since.

    Fail-safe cases, each pinned by a test:

    * an empty *keep_accessor* selects nothing. Not knowing which token is
      current is a reason to revoke none of them;
    * a candidate without an accessor is never selected;
    * any other display name is never selected. It may back someone's login.
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
        )
        if stale_here and info.accessor not in stale:
            stale.append(info.accessor)
    return tuple(stale)
