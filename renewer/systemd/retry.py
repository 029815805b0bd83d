"""Retries after a temporary failure: one-shot ``renewer-retry@<seconds>.timer`` units.

Why a timer and not ``Restart=`` (renewer.core.retry has the long story): a
pending automatic restart makes a manual start wait for it in systemd 252, and
``RestartSec=`` cannot back off there. A timer instance fires once,
``OnActiveSec=%i`` seconds after it was started, and starts renewer.service
like any start: a manual start meanwhile runs at once.

At most one retry is pending: arming one stops the others first. A run that
succeeds stops them (``ExecStartPost=`` in renewer.service), and so does a
failure that is reported instead of retried, so no retry ever repeats an alert.
"""

from __future__ import annotations

from collections.abc import Mapping

from renewer.core.retry import FailedStart
from renewer.systemd.systemctl import systemctl
from renewer.systemd.timers import RETRY_PATTERN


def retry_unit(delay: int) -> str:
    return f"renewer-retry@{delay}.timer"


def cancel_retries() -> str | None:
    """Stop every pending retry; the reason when systemctl could not, else None."""
    answer = systemctl("stop", RETRY_PATTERN)
    if answer is None:
        return "systemctl --user could not be run"
    return None if answer.ok else answer.reason()


def schedule_retry(delay: int) -> str | None:
    """Arm the one retry in *delay* seconds; the reason when that failed, else None."""
    problem = cancel_retries()
    if problem:
        return problem
    answer = systemctl("start", retry_unit(delay))
    if answer is None:
        return "systemctl --user could not be run"
    return None if answer.ok else answer.reason()


def failed_start(environ: Mapping[str, str]) -> FailedStart | None:
    """What systemd (≥ 251) passes an ``OnFailure=`` unit about the failed start, if anything."""
    if not environ.get("MONITOR_INVOCATION_ID") and not environ.get("MONITOR_EXIT_STATUS"):
        return None
    return FailedStart(
        result=environ.get("MONITOR_SERVICE_RESULT", ""),
        code=environ.get("MONITOR_EXIT_CODE", ""),
        status=environ.get("MONITOR_EXIT_STATUS", ""),
        invocation=environ.get("MONITOR_INVOCATION_ID", ""),
    )
