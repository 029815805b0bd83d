"""Deliberately broken renewers, to show the crash harness can fail (issue #8: tests that can fail).

The zygote applies one of these in a forked child before running the CLI
(``Zygote.run(..., sabotage="naive-writes")``); nothing in ``renewer/`` knows
about them. Each one breaks an invariant the harness checks:

* ``naive-writes``: every atomic write becomes truncate-then-write in two
  halves (the bug of schwab-py#231, gardener#5719), with the same crash
  points, so a kill between the halves leaves a torn file;
* ``forget-mints``: the heal no longer records a mint in the ledger before
  and after asking Vault, so a kill right after the mint leaks a token that a
  ledger-only sweep never finds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from renewer import crashpoints


def _naive_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        crashpoints.reached("write.temp_created")
        os.write(fd, data[: len(data) // 2])
        crashpoints.reached("write.written")
        os.write(fd, data[len(data) // 2 :])
        crashpoints.reached("write.fsynced")
    finally:
        os.close(fd)
    crashpoints.reached("write.renamed")


def _replace_everywhere(name: str, original: object, replacement: object) -> None:
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("renewer") and getattr(module, name, None) is original:
            setattr(module, name, replacement)


def apply(name: str) -> None:
    """Install the sabotage called *name* in this (forked) process."""
    from renewer import files

    if name == "naive-writes":
        _replace_everywhere("write_atomic", files.write_atomic, _naive_write)
    elif name == "forget-mints":
        from renewer.core import ledger

        def not_begun(entry: ledger.LedgerEntry) -> ledger.LedgerEntry:
            return entry

        def not_minted(
            entry: ledger.LedgerEntry, accessor: str, *, unrecorded_before: bool = False
        ) -> ledger.LedgerEntry:
            return entry

        ledger.begin_mint = not_begun
        ledger.minted = not_minted
    else:
        raise ValueError(f"unknown sabotage {name!r}")
