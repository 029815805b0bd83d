"""One refresh per credential at a time, across processes: an ``flock`` with a bounded wait.

A timer run, a ``renewer creds test`` and a program using ``renewer.bind``
may all find the same access token due at once. Each takes this lock before
refreshing, then re-reads the stored state and decides again: the first one
refreshes, the others find a fresh token and use it (seed 004 §11,
"refresh storm"). With OAuth2 servers that rotate refresh tokens, two
concurrent refreshes would make one of them present a refresh token the
server has just invalidated, so this lock is what keeps the grant alive.

The lock file is left in place on release: removing it would let a waiter
that already opened the old file hold a lock nobody else sees (certbot
re-checks inodes for this reason; not removing is simpler). The kernel drops
the lock when a holder dies, ``kill -9`` included.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from renewer.errors import LockBusy
from renewer.files import ensure_trusted_dir

DEFAULT_TIMEOUT = 30.0
_POLL = 0.02


def lock_path(state_dir: Path, name: str) -> Path:
    """The lock file of credential *name*."""
    return state_dir / "credentials" / f"{name}.lock"


@contextlib.contextmanager
def held(
    path: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    what: str = "",
    now: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold an exclusive lock on *path*; wait at most *timeout* seconds, then raise ``LockBusy``."""
    ensure_trusted_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        deadline = now() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in {errno.EAGAIN, errno.EWOULDBLOCK}:
                    raise
            if now() >= deadline:
                raise LockBusy(
                    f"{what or path}: another renewer process has held the lock "
                    f"for more than {timeout:g}s",
                    hint="another run or `renewer creds` command is working on it; "
                    "try again in a minute",
                )
            sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
