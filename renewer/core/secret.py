"""A string that refuses to be printed.

Token values, client secrets and refresh tokens travel as :class:`Secret` so
that a repr in a log line, an f-string in an error, or a dataclass repr shows
``Secret('[redacted]')`` instead of the value. Code that must send the value
somewhere calls :meth:`Secret.reveal` at that one place.
"""

from __future__ import annotations

import hmac
from typing import Final

_REDACTED: Final = "[redacted]"


class Secret:
    """An immutable secret string with a redacting ``repr``/``str``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def reveal(self) -> str:
        """The value itself. Call this only where the value is sent or stored."""
        value: str = object.__getattribute__(self, "_value")
        return value

    def __repr__(self) -> str:
        return f"Secret({_REDACTED!r})"

    def __str__(self) -> str:
        return _REDACTED

    def __format__(self, format_spec: str) -> str:
        return _REDACTED

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self.reveal().encode(), other.reveal().encode())

    def __hash__(self) -> int:
        return hash(self.reveal())

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")
