"""What a token rotation that stopped while issuing may revoke: only what it provably issued.

Pure: values in, values out. Used by the ``vault-token`` rotation target
when it resumes from ``green_issuing`` (a run died around the mint).

A token is this rotation's only when one of two records says so:

* **the journal** (the sink's ledger): ``begin_mint`` is written before the
  mint request and ``minted`` (the accessor, as *pending*) right after it.
  No ``mint_started`` and no pending accessor means nothing was minted whose
  accessor we do not know: there is nothing to look for, and Vault is not
  asked at all;
* **Vault's token meta**: every token a rotation mints carries
  ``renewer_rotation: <name>`` (:data:`ROTATION_KEY`; releases before it
  wrote ``rotation: <name>``) beside the owner marks of
  :mod:`renewer.core.owner` (``renewer_machine``, ``renewer_sink``). A token
  is this rotation's only when its meta names the rotation *and* its owner
  marks are this machine's for this sink — two devvms sharing a Vault and a
  README config run rotations of the same name. A pending accessor the
  journal recorded may also be a release's before the marks (``LEGACY``);
  the accessor scan (needed only when a mint's answer was lost) selects
  only tokens marked as this machine's.

Display names are never enough: a token made by hand, or by a heal, may
carry our display name. And the scan honours the sink's ``sweep:`` setting:
under ``never`` and ``ledger`` it does not run, and the person is told what
could not be checked instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from renewer.core.ledger import LedgerEntry
from renewer.core.model import SweepMode, TokenInfo
from renewer.core.owner import ROTATION_KEY, Ownership, ownership

__all__ = ["LEGACY_ROTATION_KEY", "ROTATION_KEY", "issued_by", "plan_leftovers", "select_leftovers"]

LEGACY_ROTATION_KEY = "rotation"  # releases before the renewer_ prefix
SCAN_ALLOWED = frozenset({SweepMode.ON_HEAL, SweepMode.ALWAYS})
BY_SCAN = frozenset({Ownership.MINE})  # a scan sees every machine's tokens
BY_JOURNAL = frozenset({Ownership.MINE, Ownership.LEGACY})  # this machine's ledger recorded it


def issued_by(info: TokenInfo, *, rotation: str) -> bool:
    """Does *info*'s meta say rotation *rotation* minted it?"""
    meta = info.metadata
    return bool(rotation) and rotation in {meta.get(ROTATION_KEY), meta.get(LEGACY_ROTATION_KEY)}


@dataclass(frozen=True, slots=True)
class LeftoverPlan:
    """What to look at: ledger accessors to confirm, whether to scan, what stays unchecked."""

    confirm: tuple[str, ...] = ()  # minted, never recorded as green: look up, revoke if ours
    scan: bool = False  # a mint's answer was lost: scan for tokens with our meta
    unchecked: str = ""  # what could not be looked for, in words, for the person


def plan_leftovers(
    entry: LedgerEntry, *, sweep: SweepMode, keep: str, rotation: str
) -> LeftoverPlan:
    """The recovery of an interrupted issue, from the sink's journal and its sweep setting."""
    if not keep:
        return LeftoverPlan(unchecked="the current token is unknown, so nothing is revoked")
    kept = entry.kept() | {keep}
    confirm = tuple(accessor for accessor in entry.pending if accessor and accessor not in kept)
    if not entry.mint_started:
        return LeftoverPlan(confirm=confirm)
    if sweep not in SCAN_ALLOWED:
        return LeftoverPlan(
            confirm=confirm,
            unchecked=(
                f"a mint's answer may have been lost, and sweep: {sweep.value} allows no "
                f"accessor scan; a token it created carries meta {ROTATION_KEY}={rotation}"
            ),
        )
    return LeftoverPlan(confirm=confirm, scan=True)


def select_leftovers(
    candidates: Iterable[TokenInfo],
    *,
    rotation: str,
    our_display_name: str,
    keep: str,
    owner: str,
    sink: str,
    kept: frozenset[str] = frozenset(),
    journal: bool = False,
) -> tuple[str, ...]:
    """The accessors a recovery may revoke, without duplicates, in input order.

    Selected: our display name, a known accessor that is neither *keep* nor
    *kept* (a held blue in its grace), meta naming *rotation*, and owner
    marks of (*owner*, *sink*) — or, for an accessor this machine's own
    ledger recorded (*journal*), a release's before the marks. An empty
    *keep* selects nothing (fail-safe, as the sweep's).
    """
    if not keep:
        return ()
    allowed = BY_JOURNAL if journal else BY_SCAN
    selected: list[str] = []
    for info in candidates:
        if (
            info.display_name == our_display_name
            and info.accessor
            and info.accessor != keep
            and info.accessor not in kept
            and issued_by(info, rotation=rotation)
            and ownership(info.metadata, owner=owner, sink=sink) in allowed
            and info.accessor not in selected
        ):
            selected.append(info.accessor)
    return tuple(selected)
