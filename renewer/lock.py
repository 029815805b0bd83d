"""One renewer at a time: an exclusive flock on a file in the state dir.

A timer run and a manual run must never interleave (two heals would mint two
tokens). The lock is taken with ``LOCK_NB`` in a bounded polling loop, then
exit 75 (``LockBusy``): systemd retries later. The kernel drops the lock when
the holder dies, even by ``kill -9``, so there is no stale-lock cleanup. As in
certbot, after locking we compare the inode of the path with the inode we
locked: if someone deleted and recreated the file meanwhile, we would hold a
lock nobody else sees, so we start over on the new file.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from renewer.errors import LockBusy
from renewer.files import ensure_private_dir

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
    ensure_private_dir(state_dir)
    path = state_dir / name
    give_up = clock() + timeout
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            if _try_lock(fd) and _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
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
