"""Persisting the ledger (``ledger.json`` in the state dir), atomically, 0600.

The transitions are pure (``renewer/core/ledger.py``); this module only reads
and writes them. Every update is written before the side effect it enables
(see the core module's docstring), always under the run lock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from renewer import crashpoints
from renewer.core.ledger import LedgerEntry
from renewer.errors import StateUnwritable
from renewer.files import ensure_trusted_dir, require_trusted, write_atomic

LEDGER_NAME = "ledger.json"
LEDGER_VERSION = 1


class Ledger:
    """The ledger file of one state dir."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LEDGER_NAME
        self.warning = ""
        self._entries = self._load()

    def _load(self) -> dict[str, LedgerEntry]:
        """The entries on disk. An unreadable ledger is set aside, not fatal.

        Renewing must not stop because of it: the file is renamed (kept for a
        person to look at), renewer starts from an empty ledger, and the next
        heal's full scan finds whatever the lost entries knew.
        """
        require_trusted(self.path, what="ledger")  # its accessors decide what is revoked
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            document = json.loads(raw)
            if document.get("version") != LEDGER_VERSION:
                raise ValueError(f"unknown version {document.get('version')!r}")
            return {name: _entry(value) for name, value in document["sinks"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            aside = self.path.with_name(f"{LEDGER_NAME}.unreadable")
            self.path.replace(aside)
            self.warning = (
                f"{self.path} was unreadable ({exc}); moved to {aside}, starting a new ledger"
            )
            return {}

    def get(self, sink: str) -> LedgerEntry:
        return self._entries.get(sink, LedgerEntry())

    def put(self, sink: str, entry: LedgerEntry) -> None:
        """Record *entry* for *sink* durably (no-op when nothing changed).

        Raises :class:`StateUnwritable` when the file cannot be written; the
        caller then does not take the step the entry was to record.
        """
        if self._entries.get(sink, LedgerEntry()) == entry:
            return
        entries = {**self._entries, sink: entry}
        document = {
            "version": LEDGER_VERSION,
            "sinks": {name: _as_json(value) for name, value in sorted(entries.items())},
        }
        try:
            ensure_trusted_dir(self.path.parent)
            write_atomic(self.path, (json.dumps(document, indent=2) + "\n").encode())
        except OSError as exc:
            raise StateUnwritable(
                f"cannot write the ledger {self.path}: {exc.strerror or exc}; "
                "nothing was minted or revoked for this token",
                hint=f"free space or fix the permissions of {self.path.parent}, then run again",
            ) from None
        self._entries = entries
        crashpoints.reached("ledger.written")


def _as_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "current": entry.current,
        "pending": list(entry.pending),
        "superseded": list(entry.superseded),
        "mint_started": entry.mint_started,
        "held": list(entry.held),
    }


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of accessors")
    return tuple(value)


def _entry(value: Any) -> LedgerEntry:
    current = value.get("current", "")
    if not isinstance(current, str):
        raise ValueError("current is not an accessor")
    return LedgerEntry(
        current=current,
        pending=_strings(value.get("pending", [])),
        superseded=_strings(value.get("superseded", [])),
        mint_started=bool(value.get("mint_started", False)),
        held=_strings(value.get("held", [])),
    )
