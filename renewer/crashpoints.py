"""Named crash points: how the tests kill a real renewer at an exact step.

Each write protocol calls :func:`reached` between its steps (mint → ledger →
file → ledger; temp → write → fsync → rename → dir fsync). When the
environment variable ``RENEWER_CRASHPOINT`` names that point, the process
SIGKILLs itself there — no cleanup, no ``finally``, exactly like a power cut
of the process. The crash-consistency tests set it on a child process and
check that the next run finds the old or the new state, never a torn one.
Unset (always, outside tests) it costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

_VARIABLE = "RENEWER_CRASHPOINT"
_ARMED = os.environ.get(_VARIABLE, "")


def reached(point: str) -> None:
    """SIGKILL this process if the tests armed *point*."""
    if _ARMED and point == _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
