"""When a systemd timer fires next, from what ``systemctl show`` prints. Pure.

A timer has two clocks. Calendar triggers (``OnCalendar=daily``) elapse on the
wall clock and are shown as ``NextElapseUSecRealtime=Mon 2026-12-07 00:19:24
UTC``; monotonic triggers (``OnBootSec=``, ``OnActiveSec=``, a retry's delay)
elapse on ``CLOCK_MONOTONIC`` and are shown as ``NextElapseUSecMonotonic=39min
54.670383s`` (time since boot). The timer fires at whichever comes first, which
is what ``systemctl list-timers`` computes; reading only the calendar side made
``renewer status`` say "tomorrow" when the after-boot run was 7 minutes away
(issue #17). :func:`next_elapse` is list-timers' rule, in seconds.

Rules:

* Everything is parsed from ``systemctl`` run with ``TZ=UTC`` and ``LC_ALL=C``,
  so a timestamp is always ``%a %Y-%m-%d %H:%M:%S UTC`` (systemd prints an
  empty value for "never"); ``@<seconds>`` is accepted too.
* A timespan is systemd's own format (``1y 2month 3w 4d 5h 6min 7.5s 8ms 9us``,
  ``0``, ``infinity``); ``infinity`` and the empty string mean "not scheduled".
* Anything else is None, never an exception: status must still print.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# systemd's time-util.c: the units format_timespan() prints, in seconds.
_TIMESPAN_UNITS = {
    "y": 31_557_600.0,
    "month": 2_629_800.0,
    "w": 604_800.0,
    "d": 86_400.0,
    "h": 3_600.0,
    "min": 60.0,
    "s": 1.0,
    "ms": 0.001,
    "us": 0.000_001,
}
_PART = r"(\d+(?:\.\d+)?)(y|month|w|d|h|min|s|ms|us)"
_TIMESPAN_PART = re.compile(_PART)
_TIMESPAN = re.compile(f"{_PART}(?: {_PART})*")
_UTC_FORMAT = "%a %Y-%m-%d %H:%M:%S UTC"
_UNIX = re.compile(r"@(\d+(?:\.\d+)?)")


def parse_timespan(text: str) -> float | None:
    """Seconds from systemd's timespan rendering; None for empty, ``infinity`` or garbage."""
    text = text.strip()
    if text == "0":
        return 0.0
    if not _TIMESPAN.fullmatch(text):
        return None
    parts = _TIMESPAN_PART.findall(text)
    return sum(float(amount) * _TIMESPAN_UNITS[unit] for amount, unit in parts)


def parse_timestamp(text: str) -> float | None:
    """Epoch seconds from ``Mon 2026-12-07 00:19:24 UTC`` or ``@1796600364``; else None."""
    text = text.strip()
    unix = _UNIX.fullmatch(text)
    if unix:
        return float(unix.group(1))
    try:
        parsed = datetime.strptime(text, _UTC_FORMAT)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC).timestamp()


def next_elapse(
    *,
    realtime: float | None,
    monotonic: float | None,
    now_realtime: float,
    now_monotonic: float,
) -> float | None:
    """The wall-clock time the timer fires next: the earlier of its two triggers.

    *realtime* is the calendar elapse (epoch seconds), *monotonic* the
    monotonic elapse (seconds since boot); both None means the timer is not
    scheduled. *now_realtime*/*now_monotonic* are read together, right after
    systemd answered. A monotonic elapse is moved onto the wall clock by its
    distance from now, exactly as ``systemctl list-timers`` does.
    """
    converted = None
    if monotonic is not None and monotonic > 0:
        converted = now_realtime + (monotonic - now_monotonic)
    if realtime is not None and realtime > 0:
        return realtime if converted is None else min(converted, realtime)
    return converted
