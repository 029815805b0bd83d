"""Small secret-holding files: read them safely, replace them atomically.

Every file renewer writes that holds a secret (token files, env files, AWS
profiles, key bundles, runtime state, the ledger) goes through
:func:`write_atomic`: a temp file in the same directory, created 0600 with
``O_EXCL|O_NOFOLLOW`` (never chmodded afterwards), written fully, fsynced,
renamed over the target, then the directory fsynced. A reader therefore sees
the old content or the new, never an empty or torn file, and a crash leaves at
worst a temp file behind, which :func:`sweep_temp_files` removes on the next
run (it only removes temp files whose writer process is gone).

Errors are plain ``OSError``s naming the path, never the content; callers turn
them into renewer errors with a hint.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from renewer import crashpoints
from renewer.core.pathtrust import PathFacts, judge

TEMP_INFIX = ".renewer-tmp."
SECRET_FILE_MODE = 0o600
SECRET_DIR_MODE = 0o700

_OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def temp_name_for(path: Path) -> Path:
    """A hidden sibling of *path* whose name says who is writing it."""
    return path.with_name(f".{path.name}{TEMP_INFIX}{os.getpid()}.{secrets.token_hex(4)}")


def write_atomic(path: Path, data: bytes, *, mode: int = SECRET_FILE_MODE) -> None:
    """Replace *path* with *data*, durably and atomically, with *mode* from creation."""
    temp = temp_name_for(path)
    fd = os.open(temp, _OPEN_NEW, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have removed bits we asked for
            crashpoints.reached("write.temp_created")
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            crashpoints.reached("write.written")
            os.fsync(fd)
        finally:
            os.close(fd)
        crashpoints.reached("write.fsynced")
        os.replace(temp, path)
        crashpoints.reached("write.renamed")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename in *directory* durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(directory: Path) -> None:
    """Create *directory* and every missing parent 0700; never loosen an existing one.

    ``Path.mkdir(parents=True)`` makes the parents with the umask's default
    (0777 & ~umask): under ``umask 000`` that is a world-writable
    ``~/.local/state``, where anyone could swap renewer's state dir.
    """
    missing = []
    parent = directory.parent
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another run made it meanwhile
            path.mkdir(mode=SECRET_DIR_MODE)
    directory.mkdir(mode=SECRET_DIR_MODE, exist_ok=True)


def require_trusted(path: Path, *, what: str) -> None:
    """Raise ``StateUntrusted`` unless *path* (symlinks resolved) is safe to hold state.

    The rules are :func:`renewer.core.pathtrust.judge`'s; for a path that does
    not exist yet, the directories it would be created in are judged.
    """
    from renewer.errors import StateUntrusted

    resolved = Path(os.path.realpath(path))
    facts = []
    for item in (resolved, *resolved.parents):
        try:
            info = os.stat(item)
        except FileNotFoundError:
            continue
        facts.append(PathFacts(str(item), info.st_uid, info.st_mode))
    exists = bool(facts) and facts[0].path == str(resolved)
    target = facts[0] if exists else None
    ancestors = facts[1:] if exists else facts
    verdict = judge(
        target, ancestors, uid=os.getuid(), given=str(path), what=what, unmapped=_unmapped_uid()
    )
    if verdict is not None:
        raise StateUntrusted(f"{verdict.problem}; renewer will not use it", hint=verdict.fix)


def _unmapped_uid() -> int | None:
    """The overflow uid when this process's user namespace hides other owners, else None.

    The units run renewer with ``PrivateUsers=yes``: only the user is mapped,
    and root's ``/home`` shows as 65534 (renewer.core.pathtrust, rule 4).
    """
    try:
        mapping = Path("/proc/self/uid_map").read_text().split()
    except OSError:
        return None
    if mapping[:3] == ["0", "0", "4294967295"]:  # the initial namespace: every uid is real
        return None
    try:
        return int(Path("/proc/sys/kernel/overflowuid").read_text())
    except (OSError, ValueError):
        return 65534


def ensure_trusted_dir(directory: Path, *, what: str = "state dir") -> None:
    """:func:`ensure_private_dir`, then :func:`require_trusted`: where state may live."""
    require_trusted(directory, what=what)  # before creating anything below a bad parent
    ensure_private_dir(directory)
    require_trusted(directory, what=what)


def _writer_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_temp_files(directory: Path) -> list[Path]:
    """Remove temp files left in *directory* by writers that no longer run.

    Returns the removed paths. A missing directory is not an error.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or TEMP_INFIX not in name:
            continue
        pid_text = name.split(TEMP_INFIX, 1)[1].split(".", 1)[0]
        if pid_text.isdigit() and _writer_alive(int(pid_text)):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What renewer checks about a file before trusting its content."""

    content: bytes = field(repr=False)  # may be a secret
    mode: int
    uid: int


class UnsafeFile(OSError):
    """The path is not a regular file renewer may read (symlink, directory, device...)."""


def read_small_file(path: Path, *, max_bytes: int) -> FileFacts:
    """Read a regular file of at most *max_bytes* without following a symlink.

    Raises ``FileNotFoundError``, ``PermissionError``, :class:`UnsafeFile` (a
    symlink, a directory, a device or FIFO, or larger than *max_bytes*), or
    another ``OSError``. Never blocks on a FIFO and never reads /dev/zero forever.
    """
    try:
        fd = os.open(path, _OPEN_READ)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(errno.ELOOP, "is a symbolic link", str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnsafeFile(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(errno.EINVAL, "is not a regular file", str(path))
        if info.st_size > max_bytes:
            raise UnsafeFile(errno.EFBIG, f"is larger than {max_bytes} bytes", str(path))
        chunks: list[bytes] = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        content = b"".join(chunks)
        if len(content) > max_bytes:
            raise UnsafeFile(errno.EFBIG, f"is larger than {max_bytes} bytes", str(path))
        return FileFacts(content=content, mode=stat.S_IMODE(info.st_mode), uid=info.st_uid)
    finally:
        os.close(fd)
