"""One renewer at a time: an exclusive flock on a file in the state dir.

A timer run and a manual run must never interleave (two heals would mint two
tokens). The lock is taken with ``LOCK_NB`` in a bounded polling loop, then
exit 75 (``LockBusy``): systemd retries later. The kernel drops the lock when
the holder dies, even by ``kill -9``, so there is no stale-lock cleanup. As in
certbot, after locking we compare the inode of the path with the inode we
locked: if someone deleted and recreated the file meanwhile, we would hold a
lock nobody else sees, so we start over on the new file.

The inode check protects a waiter, not the holder: if the file is deleted
and recreated *while a run holds it*, a second run would lock the new file
and run beside the first. So the state directory itself is flocked first
(it cannot be deleted while it holds our files); where a directory cannot be
flocked (NFS emulates flock with POSIX locks, which need a writable fd),
the file lock alone is used, as before.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from renewer.errors import LockBusy
from renewer.files import ensure_trusted_dir

LOCK_NAME = "renewer.lock"
_POLL = 0.1


@contextmanager
def run_lock(
    state_dir: Path,
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    name: str = LOCK_NAME,
) -> Iterator[Path]:
    """Hold the exclusive lock for the block; raise ``LockBusy`` after *timeout* seconds."""
    ensure_trusted_dir(state_dir)  # another user's or a shared dir: refused (issue 20)
    path = state_dir / name
    give_up = clock() + timeout
    while True:
        held = _acquire(state_dir, path)
        if held is not None:
            directory_fd, fd = held
            break
        if clock() >= give_up:
            raise LockBusy(
                f"another renewer run holds {path} (waited {timeout:g}s)",
                hint="it is probably the timer's run; try again in a minute "
                "(systemctl --user status renewer.service shows it)",
            )
        sleep(_POLL)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)  # closing releases the flock
        if directory_fd is not None:
            os.close(directory_fd)


def _acquire(state_dir: Path, path: Path) -> tuple[int | None, int] | None:
    """Both locks (directory, then file), or None when another process holds one."""
    got, directory_fd = _lock_directory(state_dir)
    if not got:
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        if _try_lock(fd) and _same_file(fd, path):
            return directory_fd, fd
    except BaseException:
        os.close(fd)
        if directory_fd is not None:
            os.close(directory_fd)
        raise
    os.close(fd)
    if directory_fd is not None:
        os.close(directory_fd)
    return None


def _lock_directory(state_dir: Path) -> tuple[bool, int | None]:
    """(got it, the locked fd); the fd is None where a directory cannot be flocked."""
    fd = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False, None
    except OSError as exc:
        os.close(fd)
        if exc.errno in {errno.EBADF, errno.ENOLCK, errno.EOPNOTSUPP}:
            return True, None
        raise
    return True, fd


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(fd: int, path: Path) -> bool:
    """False when *path* was deleted or replaced after we opened it."""
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)
