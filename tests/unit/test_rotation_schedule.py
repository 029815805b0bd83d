"""Tests for renewer.rotation.schedule: cron in IANA zones, DST, missed fires, retries."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.rotation.schedule import (
    Schedule,
    ScheduleError,
    as_iso,
    check_cron,
    due_at,
    is_due,
    next_due,
    next_fire,
    zone,
)

SUNDAY_2AM = "0 2 * * 0"
DAY = 86400


def at(text: str, tz: str = "UTC") -> float:
    """POSIX seconds of a local wall time in *tz* (first occurrence if ambiguous)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def local(timestamp: float, tz: str) -> str:
    return datetime.fromtimestamp(timestamp, ZoneInfo(tz)).isoformat()


class TestTokyoSunday:
    def test_the_next_fire_is_sunday_2am_tokyo_time(self) -> None:
        """Saturday noon UTC → Sunday 02:00 JST, which is Saturday 17:00 UTC."""
        fire = next_fire(SUNDAY_2AM, "Asia/Tokyo", after=at("2026-03-07T12:00:00"))
        assert local(fire, "Asia/Tokyo") == "2026-03-08T02:00:00+09:00"
        assert fire == at("2026-03-07T17:00:00")

    def test_due_exactly_at_the_fire_and_not_a_second_before(self) -> None:
        """`is_due` includes the fire instant itself."""
        schedule = Schedule(cron=SUNDAY_2AM, timezone="Asia/Tokyo")
        base = at("2026-03-01T03:00:00", "Asia/Tokyo")
        fire = at("2026-03-08T02:00:00", "Asia/Tokyo")
        assert not is_due(schedule, last_run=base, now=fire - 1)
        assert is_due(schedule, last_run=base, now=fire)

    def test_a_fire_exactly_at_last_run_is_not_due_again(self) -> None:
        """Strictly after the last run: a cycle started at 02:00 is not due at 02:00."""
        fire = at("2026-03-08T02:00:00", "Asia/Tokyo")
        assert next_fire(SUNDAY_2AM, "Asia/Tokyo", after=fire) == fire + 7 * DAY


class TestMissedSchedules:
    def test_three_missed_sundays_make_one_due_rotation(self) -> None:
        """The machine was off for three weeks: due once at the next run, not three times."""
        schedule = Schedule(cron=SUNDAY_2AM, timezone="Asia/Tokyo")
        base = at("2026-03-01T02:00:00", "Asia/Tokyo")
        back_on = at("2026-03-25T09:00:00", "Asia/Tokyo")
        assert is_due(schedule, last_run=base, now=back_on)
        assert next_due(schedule, last_run=back_on) == at("2026-03-29T02:00:00", "Asia/Tokyo")
        assert not is_due(schedule, last_run=back_on, now=back_on + 3600)

    @given(
        base=st.integers(min_value=1_700_000_000, max_value=1_900_000_000),
        gap=st.integers(min_value=0, max_value=120 * DAY),
    )
    def test_never_twice_for_the_same_fires(self, base: int, gap: int) -> None:
        """Running at *now* moves the base to now: the same fires never make it due again."""
        schedule = Schedule(cron=SUNDAY_2AM, timezone="Asia/Tokyo")
        now = base + gap
        fire = next_due(schedule, last_run=base)
        assert fire is not None and fire > base
        assert is_due(schedule, last_run=base, now=now) == (fire <= now)
        assert not is_due(schedule, last_run=now, now=now)
        following = next_due(schedule, last_run=now)
        assert following is not None and now < following <= now + 7 * DAY + 3600


class TestDaylightSaving:
    def test_a_skipped_local_time_fires_just_after_the_jump(self) -> None:
        """New York, 2026-03-08: 02:30 does not exist; it fires at 03:30 EDT, once."""
        before = at("2026-03-08T00:00:00", "America/New_York")
        fire = next_fire("30 2 * * *", "America/New_York", after=before)
        assert local(fire, "America/New_York") == "2026-03-08T03:30:00-04:00"
        again = next_fire("30 2 * * *", "America/New_York", after=fire)
        assert local(again, "America/New_York") == "2026-03-09T02:30:00-04:00"

    def test_a_repeated_local_time_fires_once(self) -> None:
        """New York, 2026-11-01: 01:30 happens twice; it fires at the first only."""
        before = at("2026-11-01T00:00:00", "America/New_York")
        fire = next_fire("30 1 * * *", "America/New_York", after=before)
        assert local(fire, "America/New_York") == "2026-11-01T01:30:00-04:00"
        again = next_fire("30 1 * * *", "America/New_York", after=fire)
        assert local(again, "America/New_York") == "2026-11-02T01:30:00-05:00"

    def test_sydney_weekly_keeps_local_time_across_its_april_change(self) -> None:
        """Southern hemisphere: 2026-04-05 02:00 happens twice (DST ends at 03:00 AEDT);
        it fires at the first, and a week later at 02:00 standard time."""
        first = next_fire(SUNDAY_2AM, "Australia/Sydney", after=at("2026-03-30T00:00:00"))
        second = next_fire(SUNDAY_2AM, "Australia/Sydney", after=first)
        assert local(first, "Australia/Sydney") == "2026-04-05T02:00:00+11:00"
        assert local(second, "Australia/Sydney") == "2026-04-12T02:00:00+10:00"

    @given(after=st.integers(min_value=1_700_000_000, max_value=1_900_000_000))
    def test_daily_fires_are_strictly_later_and_at_most_a_day_and_an_hour_apart(
        self, after: int
    ) -> None:
        """Whatever DST does, a daily job fires after *after* and within 25 h."""
        fire = next_fire("30 2 * * *", "America/New_York", after=after)
        assert after < fire <= after + DAY + 3600


class TestEveryAndRetries:
    def test_every_counts_from_the_last_base(self) -> None:
        """`every: 30d` is relative to the last completed cycle's start."""
        assert next_due(Schedule(every=30 * DAY), last_run=1000.0) == 1000.0 + 30 * DAY

    def test_no_schedule_is_never_due(self) -> None:
        """Rotations without a schedule run only with `rotate --now`."""
        assert next_due(Schedule(), last_run=0.0) is None
        assert not is_due(Schedule(), last_run=0.0, now=1e12)

    def test_a_failure_retries_after_retry_after_when_the_schedule_is_further(self) -> None:
        """Weekly schedule, failure on Sunday: retried a day later, not next Sunday."""
        schedule = Schedule(cron=SUNDAY_2AM, timezone="Asia/Tokyo")
        failed = at("2026-03-08T02:05:00", "Asia/Tokyo")
        when = due_at(
            schedule, base=failed - DAY, last_failed_at=failed, failed=True, retry_after=DAY
        )
        assert when == failed + DAY

    def test_a_failure_retries_at_the_next_fire_when_that_is_sooner(self) -> None:
        """Hourly schedule: the next hour comes before a day."""
        schedule = Schedule(cron="0 * * * *", timezone="UTC")
        failed = at("2026-03-08T02:05:00")
        when = due_at(schedule, base=0.0, last_failed_at=failed, failed=True, retry_after=DAY)
        assert when == at("2026-03-08T03:00:00")

    def test_without_a_failure_the_schedule_alone_decides(self) -> None:
        """A recorded old failure does not matter once a cycle succeeded."""
        schedule = Schedule(every=100)
        assert (
            due_at(schedule, base=50.0, last_failed_at=10.0, failed=False, retry_after=5) == 150.0
        )


class TestErrors:
    @pytest.mark.parametrize("expression", ["bad", "0 2 * *", "0 2 * * 0 5", "61 * * * *", ""])
    def test_invalid_cron_is_refused_with_an_example(self, expression: str) -> None:
        """Five fields, each valid, or a clear message."""
        with pytest.raises(ScheduleError, match="five fields like '0 2 \\* \\* 0'"):
            check_cron(expression)

    def test_unknown_timezone_names_the_expected_form(self) -> None:
        """An IANA name is required."""
        with pytest.raises(ScheduleError, match="IANA name like Asia/Tokyo"):
            zone("Mars/Olympus")

    def test_iso_in_a_zone(self) -> None:
        """Messages show local times with their offset."""
        assert as_iso(at("2026-03-07T17:00:00"), "Asia/Tokyo") == "2026-03-08T02:00:00+09:00"
        assert as_iso(0.0) == datetime(1970, 1, 1, tzinfo=UTC).isoformat()
        assert as_iso(None) is None
