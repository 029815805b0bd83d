"""This installation's owner id, as the owner marks of ``renewer.core.owner`` need it.

The id is derived from ``/etc/machine-id`` (systemd's stable machine id;
``/var/lib/dbus/machine-id`` on older systems) and the home directory, by the
pure :func:`renewer.core.owner.owner_id`. A machine without either file (a
minimal container) gets a random machine id, created once and kept 0600 in
the state dir, so the marks stay stable from run to run. ``--dry-run`` and
``renewer check`` never create that file: they use a throwaway id, which only
means they treat this machine's marked tokens as another machine's (safe: it
makes them revoke less, never more).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from pathlib import Path

from renewer.config import Config
from renewer.core.owner import owner_id
from renewer.errors import StateUnwritable
from renewer.files import ensure_private_dir, write_atomic

MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
FALLBACK_NAME = "machine-id"
_MACHINE_ID = re.compile(rb"^[0-9a-f]{32}$")


def _read_id(path: Path) -> bytes | None:
    try:
        text = path.read_bytes()[:64].strip()
    except OSError:
        return None
    return text if _MACHINE_ID.match(text) else None


def machine_id(
    state_dir: Path, *, persist: bool, sources: Sequence[Path] = MACHINE_ID_FILES
) -> bytes:
    """The machine id: the system's, else the one kept in *state_dir* (created if *persist*)."""
    for path in sources:
        found = _read_id(path)
        if found is not None:
            return found
    fallback = state_dir / FALLBACK_NAME
    found = _read_id(fallback)
    if found is not None:
        return found
    fresh = secrets.token_hex(16).encode()
    if persist:
        try:
            ensure_private_dir(state_dir)
            write_atomic(fallback, fresh + b"\n")
        except OSError as exc:
            raise StateUnwritable(
                f"cannot keep a machine id in {fallback}: {exc.strerror or exc}; "
                "nothing was minted or revoked",
                hint=f"free space or fix the permissions of {state_dir}, then run again",
            ) from None
    return fresh


def installation_owner(
    config: Config, *, persist: bool, sources: Sequence[Path] = MACHINE_ID_FILES
) -> str:
    """The ``renewer_machine`` mark of the tokens this installation mints."""
    return owner_id(
        machine_id(config.state_dir, persist=persist, sources=sources), str(config.home)
    )
