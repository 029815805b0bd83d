"""Secret files a rotation writes: the sink itself, and blue's value kept beside it.

During the grace period, blue's value is kept in ``<sink>.previous`` (same
directory, 0600, atomic) so ``renewer rotate NAME --rollback`` can put it
back; it is removed when blue is revoked or green discarded. It is the only
extra copy of a secret a rotation makes, it lives exactly as long as blue
does, and it is as protected as the sink itself. The rotation state file
never holds a value.

Reading refuses anything that is not plainly one value (symlink, directory,
device, another user's file, several words, binary): such a file is reported
and never rewritten.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from renewer.core.secret import Secret
from renewer.errors import RotationBlocked
from renewer.files import UnsafeFile, fsync_directory, read_small_file, write_atomic
from renewer.redact import register

MAX_VALUE_BYTES = 4096
PREVIOUS_SUFFIX = ".previous"


def previous_path(sink: Path) -> Path:
    return sink.with_name(sink.name + PREVIOUS_SUFFIX)


def read_value(path: Path, *, what: str) -> Secret | None:
    """The single value in *path*, None when the file does not exist."""
    try:
        facts = read_small_file(path, max_bytes=MAX_VALUE_BYTES)
    except FileNotFoundError:
        return None
    except UnsafeFile as exc:
        raise RotationBlocked(
            f"{path}: {exc.strerror}; renewer only reads a regular file holding one {what}",
            hint=f"look at what is at {path}; renewer left it as it is",
        ) from None
    except OSError as exc:
        raise RotationBlocked(f"{path}: cannot read: {exc.strerror}") from None
    if facts.uid != os.geteuid():
        raise RotationBlocked(
            f"{path}: owned by uid {facts.uid}, not by this user; refusing to use it",
            hint=f"find out who wrote {path}",
        )
    text = facts.content.strip()
    if not text or len(text.split()) != 1 or any(b < 0x21 or b > 0x7E for b in text):
        raise RotationBlocked(
            f"{path}: does not hold one {what} (empty, several words, or binary)",
            hint=f"look at what wrote {path}; renewer left it as it is",
        )
    value = text.decode("ascii")
    register(value)
    return Secret(value)


def write_value(path: Path, value: Secret, *, what: str) -> None:
    """Replace *path* with *value* atomically (0600), refusing to follow a symlink."""
    if path.is_symlink():
        raise RotationBlocked(
            f"{path}: is a symbolic link; renewer will not replace it",
            hint=f"point the config at the file itself, not at {path}",
        )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, value.reveal().encode("ascii"))
    except OSError as exc:
        raise RotationBlocked(
            f"{path}: cannot write the new {what}: {exc.strerror}; the old file is unchanged",
            hint=f"check free space and permissions in {path.parent}",
        ) from None


def keep_previous(sink: Path, value: Secret, *, what: str) -> None:
    """Keep blue's *value* beside the sink for the grace period."""
    write_value(previous_path(sink), value, what=what)


def read_previous(sink: Path, *, what: str) -> Secret | None:
    return read_value(previous_path(sink), what=what)


def drop_previous(sink: Path) -> None:
    """Remove the kept blue value (idempotent)."""
    path = previous_path(sink)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        fsync_directory(path.parent)
