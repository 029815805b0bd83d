"""The dev server's clock: real time plus an offset that tests can advance.

Every TTL decision in the dev server reads this clock and nothing else, so a
test can jump a token past its expiry with ``advance(3600)`` instead of sleeping.
The offset only ever grows: Vault's time does not run backwards either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_ADVANCE = 100 * 365 * 86400.0
"""A century per step: enough for any TTL, small enough to keep dates printable."""


class Clock:
    """Wall-clock seconds since the epoch, shifted by a settable offset.

    *source* is injectable so unit tests can pin the underlying time.
    """

    __slots__ = ("_lock", "_offset", "_source")

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current virtual time (epoch seconds, fractional)."""
        return self._source() + self._offset

    @property
    def offset(self) -> float:
        """Seconds added to real time so far."""
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move virtual time forward by *seconds*; returns the new time.

        Negative values are refused: a clock that went back would make expired
        tokens live again, which no real Vault does.
        """
        if seconds < 0:
            raise ValueError("the dev server clock only moves forward")
        if not seconds < MAX_ADVANCE:  # also refuses NaN
            raise ValueError(f"cannot advance by more than {MAX_ADVANCE:.0f} s at once")
        with self._lock:
            self._offset += seconds
        return self.now()
