"""When a rotation is due: cron with an IANA timezone, or a fixed interval.

Pure in spirit: no clock (``now`` and every past time are arguments), no
files; croniter and zoneinfo compute, nothing else. Times are POSIX seconds.

The rules:

* **cron** (``schedule: "0 2 * * 0"`` + ``timezone: Asia/Tokyo``): a rotation
  is due when a fire time falls after the last *base* (the start of the last
  completed cycle, else when renewer first saw the rotation) and at or before
  now. However many fires were missed while the machine was off, that is one
  due rotation, run once at the next run; afterwards the base moves past
  them all, so it never runs twice for them.
* **every** (``every: 30d``): due at base + interval.
* Local times that do not exist (a spring-forward gap) fire at the same
  distance past the jump (02:30 in a skipped hour runs at 03:30 local);
  local times that happen twice (fall-back) fire once, at the first.
* A failed cycle (validation failed, issue refused) is retried at the next
  fire after the failure or after ``retry_after``, whichever comes first:
  neither a retry storm every run nor a week of silence.
* A rotation without ``schedule`` or ``every`` runs only by hand, and so do
  its retries: a failed by-hand cycle is never started again by a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MAX_CANDIDATES = 1000  # cron fires examined for one answer; a valid spec needs a few


class ScheduleError(ValueError):
    """A schedule that cannot be used (the config reports it with file and line)."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """How often a rotation is due. Neither cron nor every: only by hand (``--now``)."""

    cron: str | None = None
    timezone: str = "UTC"
    every: int | None = None  # seconds

    @property
    def by_hand(self) -> bool:
        return self.cron is None and self.every is None

    def describe(self, name: str) -> str:
        """The schedule in words; by hand, the command that runs rotation *name*."""
        if self.cron is not None:
            return f"cron {self.cron!r} ({self.timezone})"
        if self.every is not None:
            return f"every {self.every}s"
        return f"by hand only (renewer rotate {name} --now)"


def check_cron(expression: str) -> None:
    """Raise :class:`ScheduleError` unless *expression* is a five-field cron line."""
    from croniter import croniter  # lazy: loading the config must stay cheap

    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise ScheduleError(
            f"expected a cron expression of five fields like '0 2 * * 0', got {expression!r}"
        )


def zone(name: str) -> ZoneInfo:
    """The IANA timezone *name*; :class:`ScheduleError` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"unknown timezone {name!r}; expected an IANA name like Asia/Tokyo or UTC"
        ) from None


def next_fire(cron: str, timezone: str, *, after: float) -> float:
    """The first fire of *cron* in *timezone* strictly after *after*."""
    from croniter import croniter

    tz = zone(timezone)
    local = datetime.fromtimestamp(after, tz).replace(tzinfo=None)
    candidates = croniter(cron, local)
    for _ in range(_MAX_CANDIDATES):
        naive: datetime = candidates.get_next(datetime)
        instant = naive.replace(tzinfo=tz, fold=0).timestamp()
        if instant > after:
            return instant
    raise ScheduleError(f"cron {cron!r} has no fire time after {after}")  # pragma: no cover


def next_due(schedule: Schedule, *, last_run: float) -> float | None:
    """When a rotation whose last base is *last_run* is next due; None: never by schedule.

    A value at or before now means due now (possibly a missed fire).
    """
    if schedule.cron is not None:
        return next_fire(schedule.cron, schedule.timezone, after=last_run)
    if schedule.every is not None:
        return last_run + schedule.every
    return None


def is_due(schedule: Schedule, *, last_run: float, now: float) -> bool:
    """True when a fire falls in (*last_run*, *now*]: missed ones count once."""
    due = next_due(schedule, last_run=last_run)
    return due is not None and due <= now


def due_at(
    schedule: Schedule,
    *,
    base: float,
    last_failed_at: float | None,
    failed: bool,
    retry_after: int,
) -> float | None:
    """When the next cycle is due, given the rotation's history.

    *base* is the start of the last completed cycle (or when the rotation was
    first seen). After a failed cycle (*failed*), the retry comes at the next
    fire after the failure or *retry_after* later, whichever is first. A
    by-hand rotation is never due: its retries are by hand too.
    """
    if schedule.by_hand:
        return None
    regular = next_due(schedule, last_run=base)
    if not failed or last_failed_at is None:
        return regular
    retry = last_failed_at + retry_after
    after_failure = next_due(schedule, last_run=last_failed_at)
    return retry if after_failure is None else min(retry, after_failure)


def as_iso(timestamp: float | None, timezone: str = "UTC") -> str | None:
    """ISO 8601 in *timezone* for messages and ``--json``; None stays None."""
    if timestamp is None:
        return None
    tz = UTC if timezone == "UTC" else zone(timezone)
    return datetime.fromtimestamp(timestamp, tz).isoformat(timespec="seconds")
