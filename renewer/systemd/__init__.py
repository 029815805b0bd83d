"""renewer under the systemd user manager: the timer's schedule, retries, failed starts.

* ``timers``: what ``renewer status`` shows of renewer.timer, renewer.service
  and a pending retry, with the real next run (calendar and monotonic triggers);
* ``retry``: arming and cancelling ``renewer-retry@<seconds>.timer`` after exit 75;
* ``systemctl``: the single, bounded way to ask the manager.

The decisions (when does the timer fire, retry or report) are pure, in
``renewer.core.timers`` and ``renewer.core.retry``.
"""

from __future__ import annotations

from renewer.systemd.timers import SERVICE_UNIT, TIMER_UNIT, TimerStatus, parse_show, timer_status

__all__ = ["SERVICE_UNIT", "TIMER_UNIT", "TimerStatus", "parse_show", "timer_status"]
