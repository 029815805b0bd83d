"""Named crash points: how the tests kill a real renewer at an exact step.

Each write protocol calls :func:`reached` between its steps (mint → ledger →
file → ledger; temp → write → fsync → rename → dir fsync). When the
environment variable ``RENEWER_CRASHPOINT`` names that point, the process
SIGKILLs itself there — no cleanup, no ``finally``, exactly like a power cut
of the process. The crash-consistency tests set it on a child process and
check that the next run finds the old or the new state, never a torn one.

Two more switches, for the crash harness (``tests/reliability/``):

* ``RENEWER_CRASHPOINT=<point>#<n>`` kills at the *n*-th time the point is
  reached (``write.renamed#3``: the third atomic write's rename), so every
  step of every file a protocol writes can be targeted, not only the first;
* ``RENEWER_CRASHPOINT_TRACE=<file>`` appends each point reached to *file*,
  one per line, which is how the harness lists a protocol's steps.

Unset (always, outside tests) :func:`reached` costs one truth test.
"""

from __future__ import annotations

import os
import signal

_VARIABLE = "RENEWER_CRASHPOINT"
_TRACE_VARIABLE = "RENEWER_CRASHPOINT_TRACE"

_armed = ""
_occurrence = 1
_trace = ""
_active = False
_seen: dict[str, int] = {}


def reload() -> None:
    """Read the switches from the environment again (at import, and in a forked test child)."""
    global _armed, _occurrence, _trace, _active  # noqa: PLW0603 - process-wide switches
    point, _, nth = os.environ.get(_VARIABLE, "").partition("#")
    _armed = point
    _occurrence = int(nth) if nth.isdigit() and int(nth) > 0 else 1
    _trace = os.environ.get(_TRACE_VARIABLE, "")
    _active = bool(_armed or _trace)
    _seen.clear()


def reached(point: str) -> None:
    """SIGKILL this process if the tests armed *point* (at this occurrence)."""
    if not _active:
        return
    count = _seen.get(point, 0) + 1
    _seen[point] = count
    if _trace:
        fd = os.open(_trace, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, f"{point}\n".encode())
        finally:
            os.close(fd)
    if point == _armed and count == _occurrence:
        os.kill(os.getpid(), signal.SIGKILL)


reload()
