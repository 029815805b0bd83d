"""One line of ``renewer check``: a status, what was checked, what was found, an exit code.

Its own room because every check module returns these, and ``install.sh``
reads the rendered lines (it enables the timer only when the check passes).
"""

from __future__ import annotations

from dataclasses import dataclass

from renewer.errors import EXIT_OK


@dataclass(frozen=True, slots=True)
class Finding:
    status: str  # "ok", "warn", "fail"
    subject: str
    detail: str
    exit_code: int = EXIT_OK

    def line(self) -> str:
        return f"{self.status:<4}  {self.subject}: {self.detail}"
