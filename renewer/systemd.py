"""What systemd knows about our timer, for ``renewer status`` (read-only).

``systemctl --user show`` is the only interface; when there is no user
manager (a container, CI, an SSH session without lingering) the answer is
simply "unknown", and status says so instead of failing.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

TIMER_UNIT = "renewer.timer"
_PROPERTIES = ("ActiveState", "UnitFileState", "NextElapseUSecRealtime", "LastTriggerUSec")


@dataclass(frozen=True, slots=True)
class TimerStatus:
    active: str  # "active", "inactive", ...
    enabled: str  # "enabled", "disabled", "" when not installed
    next_run: str  # systemd's own rendering, e.g. "Fri 2026-11-27 03:12:00 UTC"
    last_run: str

    @property
    def running(self) -> bool:
        return self.active == "active"


def parse_show(text: str) -> TimerStatus:
    """Parse ``systemctl show -p …`` output (``Key=value`` lines)."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    return TimerStatus(
        active=values.get("ActiveState", ""),
        enabled=values.get("UnitFileState", ""),
        next_run=values.get("NextElapseUSecRealtime", ""),
        last_run=values.get("LastTriggerUSec", ""),
    )


def timer_status(unit: str = TIMER_UNIT, *, timeout: float = 3.0) -> TimerStatus | None:
    """The timer's state, or None when systemd cannot be asked."""
    try:
        completed = subprocess.run(
            ["systemctl", "--user", "show", unit, *(f"--property={p}" for p in _PROPERTIES)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    return parse_show(completed.stdout)
