"""No core dumps: a renewer process holds Vault tokens and service secrets in memory.

A SIGQUIT (Ctrl-\\) or a crash during a run wrote a 35 MB core file holding
the Vault token and a service secret (issue 20, item 8). At start, before any
secret is read, :func:`forbid_core_dumps`:

* sets ``RLIMIT_CORE`` to 0, soft and hard, so nothing (not even a child) can
  raise it again; the programs renewer starts inherit it;
* marks the process not dumpable (``prctl(PR_SET_DUMPABLE, 0)``): the kernel
  writes no core whatever the limit or ``core_pattern`` (systemd-coredump
  included), and other processes of the same user can no longer ptrace it or
  read its ``/proc/PID/mem`` and ``environ``. Children get the flag back at
  ``exec`` (the kernel resets it), which is why the limit matters too.

The units add ``LimitCORE=0``. A sandbox that forbids either call
(``SystemCallFilter=~@resources`` refuses ``setrlimit``) leaves the other in
place; what failed is returned (the tests read it), never fatal.
"""

from __future__ import annotations

import ctypes
import os
import resource

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4


def _prctl(option: int, value: int = 0) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    result = int(libc.prctl(option, value, 0, 0, 0))
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


def limit_core_size() -> str:
    """RLIMIT_CORE 0 (soft and hard); the problem, or "" when done."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (OSError, ValueError) as exc:
        return f"RLIMIT_CORE: {exc}"
    return ""


def set_undumpable() -> str:
    """PR_SET_DUMPABLE 0; the problem, or "" when done."""
    try:
        _prctl(PR_SET_DUMPABLE, 0)
    except (OSError, AttributeError) as exc:  # AttributeError: a libc without prctl
        return f"PR_SET_DUMPABLE: {exc}"
    return ""


def dumpable() -> bool:
    """Whether this process may still be dumped (PR_GET_DUMPABLE)."""
    return _prctl(PR_GET_DUMPABLE) != 0


def forbid_core_dumps() -> tuple[str, ...]:
    """Both of the above; what could not be done (empty when all was)."""
    return tuple(problem for problem in (limit_core_size(), set_undumpable()) if problem)
