"""The one way renewer asks the user manager anything: ``systemctl --user``, bounded.

``systemctl`` talks to the manager over ``$XDG_RUNTIME_DIR/systemd/private``
(no D-Bus needed), which also works from inside renewer's sandbox. It runs
with ``TZ=UTC`` and ``LC_ALL=C`` so timestamps always read ``Mon 2026-12-07
00:19:24 UTC`` whatever the user's locale and zone (renewer.core.timers).
No user manager (a container, ``sudo -u``, SSH without a session) is an
answer too: None, never an exception.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

from renewer.childenv import child_env


@dataclass(frozen=True, slots=True)
class Answer:
    """What systemctl said, and both clocks read right after it said it."""

    code: int
    out: str
    err: str
    realtime: float
    monotonic: float

    @property
    def ok(self) -> bool:
        return self.code == 0

    def reason(self) -> str:
        """The first line systemctl wrote to stderr, for a message."""
        lines = self.err.strip().splitlines()
        return lines[0] if lines else f"systemctl exited {self.code}"


def systemctl(*args: str, timeout: float = 5.0) -> Answer | None:
    """``systemctl --user ARGS``; None when it cannot be run or does not answer in time."""
    # Our environment without credentials (renewer.core.childenv), fixed clock words.
    env = child_env({"TZ": "UTC", "LC_ALL": "C", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"})
    try:
        completed = subprocess.run(
            ["systemctl", "--user", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Answer(
        completed.returncode,
        completed.stdout,
        completed.stderr,
        realtime=time.time(),
        monotonic=time.monotonic(),
    )
