"""After renewer.service failed: retry later, or tell a person now? Pure.

systemd's own ``Restart=`` cannot do what the card needs (issue #17): in
systemd 252 a service waiting for its automatic restart makes a manual
``systemctl --user start`` wait for that restart (up to ``RestartSec=``), and
manual starts count against ``StartLimitBurst=``. So renewer.service does not
restart itself. Its ``OnFailure=`` handler (``renewer notify``) decides here,
from what systemd says about the failed start and what the run recorded:

* **Temporary** (exit 75: Vault or a service unreachable, lock busy) → retry
  with exponential backoff and jitter, by starting the one-shot timer
  ``renewer-retry@<seconds>.timer``; a manual start still runs at once. When
  the attempts are used up → report (and the daily timer tries again).
* **Anything else** → report now: exit 1 (a person is needed), 78 (config),
  and starts that can never succeed by retrying (``226/NAMESPACE``: the
  sandbox cannot be built; ``203/EXEC``: the program is gone; a crash).

Rules:

* The attempt number is the run's own count of consecutive exit-75 runs
  (``temporary_streak`` in state.json), so a manual run in between counts
  too. A failure the run never recorded (it stopped before: lock busy, or
  systemd could not even start it) is one more than the recorded streak.
* The delay for attempt n is drawn from ``[c/2, c]`` with ``c = min(max_delay,
  first·2^(n-1))``: never 0 (that would be a loop), spread so a fleet that
  lost Vault together does not come back together.
* What systemd reports is explained in words with the fix, never guessed
  from: an exit status renewer does not use is systemd's (``EXIT_*`` codes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EXIT_TEMPORARY = 75
RUNBOOK = "runbooks/token-renewer.md"

# systemd.exec(5) "Process Exit Codes": the ones a user service can meet, with what to do.
_SYSTEMD_EXITS: dict[int, tuple[str, str]] = {
    200: ("CHDIR", "the working directory is missing"),
    203: ("EXEC", "the program is missing or not executable: run ./install.sh again"),
    209: ("STDOUT", "systemd could not connect the output to the journal"),
    214: ("SETSID", "systemd could not start a session for it"),
    217: ("USER", "the user is unknown to the system"),
    218: ("CAPABILITIES", "systemd could not drop capabilities"),
    226: (
        "NAMESPACE",
        "systemd could not build the sandbox (a user namespace or a path in "
        "ReadWritePaths= of a drop-in); see "
        f"{RUNBOOK}#unit-cannot-start",
    ),
    228: ("SECCOMP", "systemd could not install the system call filter"),
    231: ("SECUREBITS", "systemd could not set the securebits"),
    233: ("NUMA", "systemd could not apply the NUMA policy"),
    236: ("SMACK_PROCESS_LABEL", "systemd could not apply the SMACK label"),
    242: ("BPF", "systemd could not apply the BPF programs of the unit"),
}
_RENEWER_EXITS = {
    1: "a person is needed",
    2: "a usage error in the unit's command line",
    78: "the config is invalid; renewer check says why",
}


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """``run.retry`` in the config: the backoff after exit 75."""

    first: int = 300  # seconds before the first retry (at most; see retry_delay)
    max_delay: int = 3600
    attempts: int = 6  # retries per streak; then report and leave it to the timer


@dataclass(frozen=True, slots=True)
class FailedStart:
    """What systemd told the ``OnFailure=`` handler (``$MONITOR_*``, systemd ≥ 251)."""

    result: str  # MONITOR_SERVICE_RESULT: "exit-code", "signal", "timeout", "core-dump", ...
    code: str  # MONITOR_EXIT_CODE: "exited", "killed", "dumped"
    status: str  # MONITOR_EXIT_STATUS: "75", "226", or a signal name "TERM"
    invocation: str  # MONITOR_INVOCATION_ID


@dataclass(frozen=True, slots=True)
class Retry:
    """Start ``renewer-retry@<delay>.timer``: attempt *attempt* of *of* in *delay* seconds."""

    attempt: int
    of: int
    delay: int


@dataclass(frozen=True, slots=True)
class Report:
    """Tell a person. *notes* explain what the recorded items do not."""

    notes: tuple[str, ...] = ()


Decision = Retry | Report


def retry_delay(attempt: int, settings: RetrySettings, *, fraction: float) -> int | None:
    """Seconds before retry *attempt* (1-based), or None when the attempts are used up.

    *fraction* is a uniform random number in [0, 1).
    """
    if attempt < 1 or attempt > settings.attempts:
        return None
    ceiling = min(settings.max_delay, settings.first * 2.0 ** min(attempt - 1, 62))
    return max(1, math.ceil(ceiling / 2 + fraction * ceiling / 2))


def next_streak(previous: Mapping[str, Any], exit_code: int) -> int:
    """The consecutive exit-75 runs after a run that exited *exit_code*."""
    if exit_code != EXIT_TEMPORARY:
        return 0
    before = previous.get("temporary_streak")
    return (before if isinstance(before, int) and before > 0 else 0) + 1


def describe(failed: FailedStart) -> str:
    """systemd's verdict in words, with what to do: ``exit 226/NAMESPACE: …``."""
    if failed.result == "timeout":
        return "it ran longer than TimeoutStartSec= and systemd stopped it"
    if failed.code in {"killed", "dumped"}:
        verb = "crashed (core dump)" if failed.code == "dumped" else "was killed"
        return f"renewer {verb} by signal {failed.status}"
    if failed.result == "start-limit-hit":
        return "it was started too often in a short time (start-limit-hit)"
    if not failed.status.isdigit():
        return f"it failed ({failed.result or 'unknown result'})"
    status = int(failed.status)
    if status in _SYSTEMD_EXITS:
        name, meaning = _SYSTEMD_EXITS[status]
        return f"systemd could not start it: exit {status}/{name}: {meaning}"
    return f"exit {status}" + (f": {_RENEWER_EXITS[status]}" if status in _RENEWER_EXITS else "")


def decide(
    failed: FailedStart | None,
    last_run: Mapping[str, Any],
    settings: RetrySettings,
    *,
    fraction: float,
) -> Decision:
    """Retry or report, for a failed start of renewer.service.

    *failed* is None when systemd said nothing: ``renewer notify`` run by hand,
    or systemd older than 251 (no ``$MONITOR_*``). Without knowing what
    failed, nothing is retried: the person is told.
    """
    if failed is None:
        return Report()
    recorded = bool(failed.invocation) and last_run.get("invocation") == failed.invocation
    temporary = failed.code == "exited" and failed.status == str(EXIT_TEMPORARY)
    notes: list[str] = []
    if not recorded:
        notes.append(
            "renewer.service exited 75 before recording a run (lock busy?)"
            if temporary
            else f"renewer.service stopped before recording a run: {describe(failed)}"
        )
    if not temporary:
        return Report(tuple(notes))
    streak = last_run.get("temporary_streak")
    streak = streak if isinstance(streak, int) and streak > 0 else 0
    attempt = streak if recorded and streak else streak + 1
    delay = retry_delay(attempt, settings, fraction=fraction)
    if delay is not None:
        return Retry(attempt=attempt, of=settings.attempts, delay=delay)
    notes.append(
        f"temporary failures in {attempt} consecutive runs; no more retries until "
        f"the timer's next run (see {RUNBOOK}#temporary-failure)"
    )
    return Report(tuple(notes))
