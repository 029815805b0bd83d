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
from dataclasses import dataclass

from renewer.core.model import SweepMode, TokenInfo
from renewer.core.owner import Ownership, ownership

BY_SCAN = frozenset({Ownership.MINE, Ownership.UNMARKED})
BY_LEDGER = frozenset({Ownership.MINE, Ownership.UNMARKED, Ownership.LEGACY})
ONLY_MINE = frozenset({Ownership.MINE})


def scan_scope(mode: SweepMode, *, by_hand: bool = False) -> frozenset[Ownership]:
    """What a full scan may revoke, given the sink's ``sweep:`` mode.

    The seed's strays (named like ours, no renewer marks: made by hand or by
    an old script) are swept only where the person chose full scans: ``on-heal``,
    ``always``, or ``renewer sweep --full`` (*by_hand*). Under ``ledger`` and
    ``never`` a full scan runs for one reason only, to find a mint whose answer
    was lost in a crash; that token carries this machine's marks for this
    sink, so nothing else is revoked there.
    """
    if by_hand or mode in (SweepMode.ON_HEAL, SweepMode.ALWAYS):
        return BY_SCAN
    return ONLY_MINE


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


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What a sweep did. Accessors are not secrets; token values never appear here."""

    revoked: tuple[str, ...] = ()  # revoked now (or, in a dry run, would be)
    gone: tuple[str, ...] = ()  # ledger entries Vault no longer knows (or no longer ours)
    scanned: int = 0  # accessors the full scan looked up
    ours_remaining: int | None = None  # tokens named like ours left alive (full scan only)
    elsewhere: int = 0  # named like ours, marked by another renewer: left alone (full scan)
    unmarked_kept: int = 0  # named like ours, no renewer marks, out of this scan's scope
    skipped: str = ""  # why the full scan did not run
    incomplete: str = ""  # why a sweep stopped early

    def merge(self, other: SweepReport) -> SweepReport:
        return SweepReport(
            revoked=self.revoked + tuple(a for a in other.revoked if a not in self.revoked),
            gone=self.gone + other.gone,
            scanned=self.scanned + other.scanned,
            ours_remaining=other.ours_remaining
            if other.ours_remaining is not None
            else self.ours_remaining,
            elsewhere=self.elsewhere + other.elsewhere,
            unmarked_kept=self.unmarked_kept + other.unmarked_kept,
            skipped=self.skipped or other.skipped,
            incomplete=self.incomplete or other.incomplete,
        )

    def describe(self) -> str:
        verb = "revoked"
        parts = [f"{verb} {len(self.revoked)} stale token(s)"]
        if self.ours_remaining is not None:
            parts.append(f"{self.ours_remaining} of ours remain")
        if self.elsewhere:
            parts.append(
                f"{self.elsewhere} token(s) with our name but another renewer's marks "
                "(another machine, home or sink) left alone"
            )
        if self.unmarked_kept:
            parts.append(
                f"{self.unmarked_kept} token(s) with our name but no renewer marks left alone "
                "(this sink's sweep mode does not sweep strays; `renewer sweep NAME --full` does)"
            )
        if self.skipped:
            parts.append(f"full scan skipped: {self.skipped}")
        if self.incomplete:
            parts.append(f"sweep incomplete: {self.incomplete}")
        return ", ".join(parts)
