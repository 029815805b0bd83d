"""Durations as Vault writes them: ``768h``, ``32d``, ``1h30m``, ``90`` (seconds).

Pure. Parsing happens once, in config loading; everything else works in whole
seconds. Formatting follows Go's ``Duration.String()`` with zero units trimmed,
which is what Vault prints in its warnings (``768h``, ``1h30m``, ``1m40s``).
"""

from __future__ import annotations

import re

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+)([smhd])")
_WHOLE = re.compile(r"(?:\d+[smhd])+")


def parse_duration(value: str | int | float) -> int:
    """Whole seconds from ``90``, ``"90"``, ``"15m"``, ``"1h30m"`` or ``"32d"``.

    Raises ``ValueError`` with a message fit for a config error.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration like 768h, 32d or 90 (seconds), got true/false")
    if isinstance(value, float):  # JSON Schema calls 90.0 an integer; YAML makes it a float
        if not value.is_integer():
            raise ValueError(f"expected whole seconds, got {value!r}")
        value = int(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value}")
        return value
    text = value.strip()
    if text.isdigit():
        return int(text)
    if not _WHOLE.fullmatch(text):
        raise ValueError(
            f"expected a duration like 768h, 32d, 1h30m or 90 (seconds), got {value!r}"
        )
    return sum(int(amount) * _UNIT_SECONDS[unit] for amount, unit in _PART.findall(text))


def format_duration(seconds: int) -> str:
    """Go-style, zero units trimmed: 2764800 → ``768h``, 5400 → ``1h30m``, 0 → ``0s``."""
    if seconds <= 0:
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = ""
    if hours:
        text += f"{hours}h"
    if minutes:
        text += f"{minutes}m"
    if secs:
        text += f"{secs}s"
    return text


def format_ttl(seconds: int) -> str:
    """Human TTL for log lines: ``31d 23h``, ``6h 5m``, ``45s``; rounds down."""
    if seconds <= 0:
        return "expired"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
