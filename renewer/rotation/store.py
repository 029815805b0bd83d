"""Rotation state files: one schema-versioned JSON per rotation, atomic, 0600.

``<state_dir>/rotation/<name>.json`` holds one :class:`RotationState`:
phase, identifiers (accessors, key ids) and times. Never a secret value —
the machine has no field for one. Writes go through
:func:`renewer.files.write_atomic` (temp 0600 + fsync + rename + dir fsync),
always under the run lock, and always *before* the side effect the new
phase describes.

A file that cannot be read as a state (bad JSON, unknown version, unknown
phase, wrong types) is **not** set aside and replaced, unlike the ledger: it
may be the only record of a green credential in flight, so guessing could
leak or double-revoke. The rotation stops with :class:`RotationStateInvalid`
(exit 1) naming the file, and the runbook says how to recover by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from renewer import crashpoints
from renewer.errors import RotationStateInvalid, StateUnwritable
from renewer.files import (
    UnsafeFile,
    ensure_trusted_dir,
    read_small_file,
    require_trusted,
    write_atomic,
)
from renewer.rotation.machine import STATE_VERSION, LastResult, Phase, RotationState

DIRECTORY = "rotation"
MAX_STATE_BYTES = 64 * 1024

_FLOATS = (
    "since",
    "anchor",
    "grace_ends_at",
    "due_base",
    "last_started_at",
    "last_promoted_at",
    "last_completed_at",
    "last_failed_at",
    "run_failed_at",
)
_OPTIONAL = {"grace_ends_at", "due_base", "run_failed_at"} | {
    name for name in _FLOATS if name.startswith("last_")
}
_STRINGS = ("name", "target", "blue", "green", "last_error", "run_error")


class RotationStore:
    """The rotation state files of one state dir."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir / DIRECTORY

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.json"

    def load(self, name: str) -> RotationState | None:
        """The state of rotation *name*, None when it was never recorded."""
        path = self.path(name)
        require_trusted(path, what="rotation state")
        try:
            raw = read_small_file(path, max_bytes=MAX_STATE_BYTES).content
        except FileNotFoundError:
            return None
        except (UnsafeFile, OSError) as exc:
            raise _invalid(path, name, exc.strerror or str(exc)) from None
        try:
            return decode(raw, name=name)
        except ValueError as exc:
            raise _invalid(path, name, str(exc)) from None

    def save(self, state: RotationState) -> None:
        """Record *state* durably (0600, atomic); :class:`StateUnwritable` when it cannot be."""
        try:
            ensure_trusted_dir(self.directory)
            write_atomic(self.path(state.name), encode(state))
        except OSError as exc:
            raise StateUnwritable(
                f"cannot write the rotation state {self.path(state.name)}: "
                f"{exc.strerror or exc}; the rotation stopped before its next step",
                hint=f"free space or fix the permissions of {self.directory}, then run again",
            ) from None
        crashpoints.reached("rotation.state_written")

    def names(self) -> Iterator[str]:
        """Rotations with a state file (including ones no longer configured)."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.json")):
            yield path.stem


def _invalid(path: Path, name: str, problem: str) -> RotationStateInvalid:
    return RotationStateInvalid(
        f"{path}: cannot read the state of rotation {name!r}: {problem}; "
        "renewer will not guess where that rotation stood",
        hint=f"look at the file; to start over: mv {path} {path}.bad && "
        f"renewer rotate {name} --dry-run (then sweep any credential the lost cycle left)",
    )


def encode(state: RotationState) -> bytes:
    """The JSON document for *state*."""
    document: dict[str, Any] = {"version": STATE_VERSION, **asdict(state)}
    document["phase"] = state.phase.value
    document["last_result"] = state.last_result.value
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def decode(raw: bytes, *, name: str) -> RotationState:
    """Parse a state document; ``ValueError`` naming the first problem."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    if document.get("version") != STATE_VERSION:
        raise ValueError(
            f"unknown version {document.get('version')!r} (this renewer reads {STATE_VERSION})"
        )
    values: dict[str, Any] = {}
    for key in _STRINGS:
        value = document.get(key, "")
        if not isinstance(value, str):
            raise ValueError(f"field {key!r} is not a string")
        values[key] = value
    if values["name"] != name:
        raise ValueError(f"it records rotation {values['name']!r}")
    for key in _FLOATS:
        value = document.get(key)
        if value is None and key in _OPTIONAL:
            values[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"field {key!r} is not a time")
        values[key] = float(value)
    cycles = document.get("cycles", 0)
    if isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 0:
        raise ValueError("field 'cycles' is not a count")
    try:
        phase = Phase(document.get("phase"))
    except ValueError:
        raise ValueError(f"unknown phase {document.get('phase')!r}") from None
    try:
        last_result = LastResult(document.get("last_result", "none"))
    except ValueError:
        raise ValueError(f"unknown last_result {document.get('last_result')!r}") from None
    return RotationState(phase=phase, last_result=last_result, cycles=cycles, **values)
