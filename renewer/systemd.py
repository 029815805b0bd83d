"""What systemd knows about our timer and service, for ``renewer status`` (read-only).

``systemctl --user show`` is the only interface. When there is no user
manager (a container, CI, an SSH session without lingering) the answer is
simply "unknown", and status says so instead of failing. When there is one,
a timer that is not installed, not enabled or not running is a reason for a
person to look: the daily run would silently stop happening.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

TIMER_UNIT = "renewer.timer"
SERVICE_UNIT = "renewer.service"
_TIMER_PROPERTIES = (
    "LoadState",
    "ActiveState",
    "UnitFileState",
    "NextElapseUSecRealtime",
    "LastTriggerUSec",
)
_SERVICE_PROPERTIES = ("ActiveState", "Result")
_ENABLED = frozenset({"enabled", "enabled-runtime"})


@dataclass(frozen=True, slots=True)
class TimerStatus:
    """The timer and its service as the user manager reports them."""

    load: str  # "loaded", "not-found", ...
    active: str  # "active", "inactive", ...
    enabled: str  # "enabled", "disabled", "" when not installed
    next_run: str  # systemd's own rendering, e.g. "Fri 2026-11-27 03:12:00 UTC"
    last_run: str
    service_active: str = ""  # renewer.service: "inactive", "failed", "activating"...
    service_result: str = ""  # "success", "exit-code", "start-limit-hit"...

    @property
    def running(self) -> bool:
        return self.active == "active"

    def problems(self) -> list[str]:
        """Why the scheduled runs would not happen (or keep failing); empty when fine."""
        enable = f"systemctl --user enable --now {TIMER_UNIT}"
        if self.load != "loaded":
            return [f"{TIMER_UNIT} is not installed, so nothing runs renewer daily: ./install.sh"]
        found = []
        if self.enabled not in _ENABLED:
            found.append(f"{TIMER_UNIT} is not enabled ({self.enabled or 'unknown'}): {enable}")
        elif not self.running:
            found.append(f"{TIMER_UNIT} is enabled but not running: {enable}")
        if self.service_active == "failed":
            found.append(
                f"{SERVICE_UNIT} is in the failed state ({self.service_result}); "
                f"once fixed: systemctl --user reset-failed {SERVICE_UNIT}"
            )
        return found


def _blocks(text: str) -> list[dict[str, str]]:
    """``systemctl show A B`` output: one ``Key=value`` block per unit, blank-line separated."""
    blocks = []
    for chunk in text.strip("\n").split("\n\n"):
        blocks.append(dict(line.split("=", 1) for line in chunk.splitlines() if "=" in line))
    return blocks


def parse_show(text: str) -> TimerStatus:
    """Parse ``systemctl show renewer.timer renewer.service -p …`` output."""
    blocks = _blocks(text)
    timer = blocks[0] if blocks else {}
    service = blocks[1] if len(blocks) > 1 else {}
    return TimerStatus(
        load=timer.get("LoadState", ""),
        active=timer.get("ActiveState", ""),
        enabled=timer.get("UnitFileState", ""),
        next_run=timer.get("NextElapseUSecRealtime", ""),
        last_run=timer.get("LastTriggerUSec", ""),
        service_active=service.get("ActiveState", ""),
        service_result=service.get("Result", ""),
    )


def timer_status(*, timeout: float = 3.0) -> TimerStatus | None:
    """The timer's and the service's state, or None when systemd cannot be asked."""
    properties = sorted(set(_TIMER_PROPERTIES) | set(_SERVICE_PROPERTIES))
    try:
        completed = subprocess.run(
            [
                "systemctl",
                "--user",
                "show",
                TIMER_UNIT,
                SERVICE_UNIT,
                *(f"--property={name}" for name in properties),
            ],
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
