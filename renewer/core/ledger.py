"""The ledger: every accessor of ours renewer has seen, per token sink.

Pure transitions over an immutable entry; ``renewer/tokens/ledger.py`` persists it.
Why a ledger: listing accessors needs ``sudo`` and does not scale (one lookup
per token in Vault), so renewer remembers the tokens it minted or found
healthy and revokes superseded ones directly. The order of writes makes a
crash at any point recoverable:

1. ``begin_mint`` is persisted before asking Vault to mint (a crash right after
   the mint leaves a token whose accessor we never learned: the flag tells the
   next heal to run the full scan);
2. ``minted`` is persisted before the token file is written (a crash between
   mint and write leaves a *pending* accessor);
3. ``committed`` once the file holds the new token.

At the next run, :func:`reconcile` adopts a pending accessor found in the
file and marks every other pending one superseded, so it gets revoked.

``mint_started`` is only cleared by a full scan that completed (or by Vault
refusing the mint): a later mint that succeeds says nothing about an earlier
one whose answer was lost, so the flag survives ``minted`` and ``committed``
when it was already set before that mint began.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


def _without(items: tuple[str, ...], *drop: str) -> tuple[str, ...]:
    return tuple(item for item in items if item not in drop)


def _with(items: tuple[str, ...], *add: str) -> tuple[str, ...]:
    result = list(items)
    for item in add:
        if item and item not in result:
            result.append(item)
    return tuple(result)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What renewer knows about one sink's tokens in Vault."""

    current: str = ""  # the accessor of the token in the file, when it is ours
    pending: tuple[str, ...] = ()  # minted, not yet known to be in the file
    superseded: tuple[str, ...] = ()  # ours, replaced: to confirm and revoke
    mint_started: bool = False  # a mint began and its accessor was never recorded
    held: tuple[str, ...] = ()  # ours, replaced, but kept alive on purpose (rotation grace)

    def sweep_candidates(self) -> tuple[str, ...]:
        """Accessors to confirm and revoke: never the current one, never a held one."""
        return _without(_with(self.superseded, *self.pending), self.current, "", *self.held)

    def kept(self) -> frozenset[str]:
        """Accessors no sweep may revoke: the current token and the held ones."""
        return frozenset({self.current, *self.held} - {""})


def observe(entry: LedgerEntry, accessor: str) -> LedgerEntry:
    """Our token with *accessor* was found healthy in the sink."""
    if not accessor or accessor == entry.current:
        return replace(entry, pending=_without(entry.pending, accessor))
    return LedgerEntry(
        current=accessor,
        pending=_without(entry.pending, accessor),
        superseded=_without(_with(entry.superseded, entry.current), accessor, *entry.held),
        mint_started=entry.mint_started,
        held=_without(entry.held, accessor),
    )


def begin_mint(entry: LedgerEntry) -> LedgerEntry:
    return replace(entry, mint_started=True)


def minted(entry: LedgerEntry, accessor: str, *, unrecorded_before: bool = False) -> LedgerEntry:
    """Vault minted a token with *accessor*; the file does not hold it yet.

    *unrecorded_before*: ``mint_started`` was already set when this mint
    began (an earlier answer was lost); the flag then stays for the full scan.
    """
    return replace(entry, pending=_with(entry.pending, accessor), mint_started=unrecorded_before)


def forget_mint_attempt(entry: LedgerEntry) -> LedgerEntry:
    """No unrecorded mint can exist: Vault refused it, or a full scan covered it."""
    return replace(entry, mint_started=False)


def committed(entry: LedgerEntry, accessor: str) -> LedgerEntry:
    """The file now holds the token with *accessor*; everything older is superseded."""
    older = _with(entry.superseded, entry.current, *entry.pending)
    return LedgerEntry(
        current=accessor,
        pending=(),
        superseded=_without(older, accessor, "", *entry.held),
        mint_started=entry.mint_started,
        held=_without(entry.held, accessor),
    )


def abandoned(entry: LedgerEntry, accessor: str) -> LedgerEntry:
    """A minted token was revoked before it reached the file."""
    return replace(entry, pending=_without(entry.pending, accessor))


def reconcile(entry: LedgerEntry, file_accessor: str) -> LedgerEntry:
    """Repair after an interrupted heal, given the accessor of the token now in the file."""
    if file_accessor and file_accessor in entry.pending:
        return committed(entry, file_accessor)
    if not entry.pending:
        return entry
    return replace(
        entry,
        pending=(),
        superseded=_without(_with(entry.superseded, *entry.pending), entry.current, ""),
    )


def hold(entry: LedgerEntry, accessor: str) -> LedgerEntry:
    """Keep *accessor* alive through sweeps (a rotation's blue token in its grace period)."""
    return replace(entry, held=_with(entry.held, accessor))


def release(entry: LedgerEntry, accessor: str) -> LedgerEntry:
    """End the hold: *accessor* is superseded like any other old token of ours."""
    return replace(
        entry,
        held=_without(entry.held, accessor),
        superseded=_with(entry.superseded, accessor)
        if accessor != entry.current
        else entry.superseded,
    )


def revoked(entry: LedgerEntry, *accessors: str) -> LedgerEntry:
    """The accessors are gone from Vault (revoked by us, or already expired)."""
    return replace(
        entry,
        superseded=_without(entry.superseded, *accessors),
        pending=_without(entry.pending, *accessors),
        held=_without(entry.held, *accessors),
    )
