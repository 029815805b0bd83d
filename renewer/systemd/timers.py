"""What systemd knows about our timer, service and pending retry, for ``renewer status``.

Read-only. When there is no user manager the answer is simply "unknown", and
status says so instead of failing. When there is one, a timer that is not
installed, not enabled or not running is a reason for a person to look: the
daily run would silently stop happening.

The next run is the earliest of the timer's two triggers (renewer.core.timers)
and of a pending retry (``renewer-retry@<seconds>.timer``, started by the
``OnFailure=`` handler after exit 75): exactly what ``systemctl --user
list-timers`` shows. ``TimerStatus.next_run_at`` is that moment as epoch
seconds, for anything whose health depends on when renewer runs next.
"""

from __future__ import annotations

from dataclasses import dataclass

from renewer.core.timers import next_elapse, parse_timespan, parse_timestamp
from renewer.systemd.systemctl import systemctl

TIMER_UNIT = "renewer.timer"
SERVICE_UNIT = "renewer.service"
RETRY_PATTERN = "renewer-retry@*.timer"
PROPERTIES = (
    "Id",
    "LoadState",
    "ActiveState",
    "UnitFileState",
    "Result",
    "NextElapseUSecRealtime",
    "NextElapseUSecMonotonic",
    "LastTriggerUSec",
)
_ENABLED = frozenset({"enabled", "enabled-runtime"})


@dataclass(frozen=True, slots=True)
class TimerStatus:
    """The timer, its service and any pending retry, as the user manager reports them."""

    load: str  # "loaded", "not-found", ...
    active: str  # "active", "inactive", ...
    enabled: str  # "enabled", "disabled", "" when not installed
    timer_next_at: float | None = None  # renewer.timer's next elapse (epoch seconds)
    last_run_at: float | None = None  # when renewer.timer last fired
    service_active: str = ""  # renewer.service: "inactive", "failed", "activating"...
    service_result: str = ""  # "success", "exit-code", "start-limit-hit"...
    retry_at: float | None = None  # a pending renewer-retry@….timer, if any
    retry_unit: str = ""

    @property
    def running(self) -> bool:
        return self.active == "active"

    @property
    def next_run_at(self) -> float | None:
        """When renewer.service starts next by any timer: the earliest scheduled moment."""
        times = [t for t in (self.timer_next_at, self.retry_at) if t is not None]
        return min(times) if times else None

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
        if self.service_active == "failed" and self.retry_at is None:
            found.append(
                f"{SERVICE_UNIT} is in the failed state ({self.service_result}); "
                f"once fixed: systemctl --user reset-failed {SERVICE_UNIT}"
            )
        return found


def _blocks(text: str) -> dict[str, dict[str, str]]:
    """``systemctl show A B…`` output: one ``Key=value`` block per unit, keyed by ``Id``."""
    blocks: dict[str, dict[str, str]] = {}
    for index, chunk in enumerate(text.strip("\n").split("\n\n")):
        block = dict(line.split("=", 1) for line in chunk.splitlines() if "=" in line)
        if block:
            blocks[block.get("Id") or f"#{index}"] = block
    return blocks


def _elapse(block: dict[str, str], *, now_realtime: float, now_monotonic: float) -> float | None:
    return next_elapse(
        realtime=parse_timestamp(block.get("NextElapseUSecRealtime", "")),
        monotonic=parse_timespan(block.get("NextElapseUSecMonotonic", "")),
        now_realtime=now_realtime,
        now_monotonic=now_monotonic,
    )


def parse_show(text: str, *, now_realtime: float, now_monotonic: float) -> TimerStatus:
    """Parse ``systemctl --user show renewer.timer renewer.service 'renewer-retry@*.timer'``.

    *now_realtime*/*now_monotonic*: both clocks, read right after systemctl answered.
    """
    blocks = _blocks(text)
    timer = blocks.get(TIMER_UNIT, {})
    service = blocks.get(SERVICE_UNIT, {})
    retries = sorted(
        (at, unit)
        for unit, block in blocks.items()
        if unit.startswith("renewer-retry@") and block.get("ActiveState") == "active"
        for at in [_elapse(block, now_realtime=now_realtime, now_monotonic=now_monotonic)]
        if at is not None
    )
    return TimerStatus(
        load=timer.get("LoadState", ""),
        active=timer.get("ActiveState", ""),
        enabled=timer.get("UnitFileState", ""),
        timer_next_at=_elapse(timer, now_realtime=now_realtime, now_monotonic=now_monotonic),
        last_run_at=parse_timestamp(timer.get("LastTriggerUSec", "")),
        service_active=service.get("ActiveState", ""),
        service_result=service.get("Result", ""),
        retry_at=retries[0][0] if retries else None,
        retry_unit=retries[0][1] if retries else "",
    )


def timer_status(*, timeout: float = 3.0) -> TimerStatus | None:
    """The timer's, the service's and a pending retry's state; None when systemd cannot be asked."""
    answer = systemctl(
        "show",
        TIMER_UNIT,
        SERVICE_UNIT,
        RETRY_PATTERN,
        *(f"--property={name}" for name in PROPERTIES),
        timeout=timeout,
    )
    if answer is None or not answer.ok:
        return None
    return parse_show(answer.out, now_realtime=answer.realtime, now_monotonic=answer.monotonic)
