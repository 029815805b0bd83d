"""Durations and timestamps the way Vault reads and writes them.

Pure functions, no clock. Three conventions matter to clients:

* Vault reads durations with go-secure-stdlib's ``parseutil.ParseDurationSecond``:
  a bare number is seconds (``"90"``, ``90``), ``"7d"`` is days, and anything
  else goes through Go's ``time.ParseDuration`` (``"1h30m"``, ``"1.5h"``).
* Warnings print durations with ``framework/lease.go``'s ``humanDuration``: Go's
  ``Duration.String()`` with zero units trimmed (``768h``, ``1h30m``, ``1m40s``).
* Lease times (``expire_time``, ``issue_time``, ``last_renewal``) are Go's
  RFC3339Nano in the server's zone; KV and AppRole times are the same format in UTC.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")


MAX_GO_DURATION = (2**63 - 1) / 1e9
"""Go's ``time.Duration`` is int64 nanoseconds: about 292 years at most."""


class DurationError(ValueError):
    """A duration Vault would refuse; the message is Go's wording."""


def parse_go_duration(text: str) -> float:
    """Parse Go's ``time.ParseDuration`` syntax into seconds.

    Go requires a unit on every number except a lone ``0``; so do we, because a
    client that sends ``"1h30"`` gets an error from Vault and should get one here.
    """
    original = text
    sign = 1.0
    if text[:1] in "+-" and text:
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise DurationError(f'time: invalid duration "{original}"')
    total = 0.0
    position = 0
    while position < len(text):
        match = _GO_DURATION.match(text, position)
        if match is None or match.group(1) in ("", "."):
            raise DurationError(f'time: invalid duration "{original}"')
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    return sign * total


def parse_duration_second(value: object) -> int:
    """Parse a Vault duration field into whole seconds (``ParseDurationSecond``).

    Sub-second parts are dropped: every TTL Vault reports is whole seconds.
    ``None`` and ``""`` mean "not given" and read as 0. Values beyond Go's
    ``time.Duration`` range are refused, as Go's parser refuses them.
    """
    seconds = _parse_seconds(value)
    if abs(seconds) > MAX_GO_DURATION:
        raise DurationError(f'time: invalid duration "{value}"')
    return seconds


def _parse_seconds(value: object) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise DurationError(f"could not parse duration from input {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise DurationError(f"could not parse duration from input {value!r}")
        return int(value)
    if not isinstance(value, str):
        raise DurationError(f"could not parse duration from input {value!r}")
    text = value.strip()
    if text.endswith("d") and text[:-1].lstrip("-").isdigit():
        return int(text[:-1]) * 86400
    if text.lstrip("-").isdigit():
        return int(text)
    return int(parse_go_duration(text))


def human_duration(seconds: float) -> str:
    """Format like ``framework.humanDuration``: Go's ``Duration.String()``, zeros trimmed."""
    if seconds == 0:
        return "0s"
    text = go_duration_string(seconds)
    if text.endswith("m0s"):
        text = text[:-2]
    index = text.find("h0m")
    if index > 0:
        text = text[: index + 1] + text[index + 3 :]
    return text


def go_duration_string(seconds: float) -> str:
    """Go's ``Duration.String()`` for whole and fractional seconds (>= 1s)."""
    negative = seconds < 0
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    secs_text = f"{secs:.9f}".rstrip("0").rstrip(".") if secs != int(secs) else str(int(secs))
    text = f"{secs_text}s"
    if hours or minutes:
        text = f"{int(minutes)}m{text}"
    if hours:
        text = f"{int(hours)}h{text}"
    return ("-" if negative else "") + text


_LOCAL_ZONE = datetime.now().astimezone().tzinfo
"""The server's zone, read once (a dev server does not outlive many DST changes)."""


def rfc3339_nano(timestamp: float, *, utc: bool = False) -> str:
    """Go's RFC3339Nano: trailing zeros of the fraction trimmed, ``Z`` for UTC.

    Python keeps microseconds, so at most six fraction digits appear.
    """
    moment = datetime.fromtimestamp(timestamp, tz=UTC if utc else _LOCAL_ZONE)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    offset = moment.utcoffset()
    if offset is None or not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero ``time.Time`` in RFC3339, which Vault prints for "never"."""
