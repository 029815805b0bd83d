"""Tests for renewer.core.timers and renewer.core.retry: values in, values out.

The examples are what systemd 252 printed and passed (``$MONITOR_*``) in a
real user manager (tests/usermanager/); the properties are the promises: the
next run is never later than either trigger, a retry is never immediate and
never unbounded, nothing but exit 75 is ever retried, and a failure nobody
recorded is always explained.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.retry import (
    FailedStart,
    Report,
    Retry,
    RetrySettings,
    decide,
    describe,
    next_streak,
    retry_delay,
)
from renewer.core.timers import next_elapse, parse_timespan, parse_timestamp

UNITS = [
    ("y", 31_557_600),
    ("month", 2_629_800),
    ("w", 604_800),
    ("d", 86_400),
    ("h", 3_600),
    ("min", 60),
    ("s", 1),
]


def format_timespan(seconds: int, micros: int = 0) -> str:
    """systemd's format_timespan(), for whole units plus a fraction of a second."""
    if seconds == 0 and micros == 0:
        return "0"
    parts = []
    for name, size in UNITS:
        amount, seconds = divmod(seconds, size)
        if name == "s":
            amount_text = f"{amount}.{micros:06d}".rstrip("0").rstrip(".") if micros else ""
            if amount or micros:
                parts.append(f"{amount_text or amount}s")
        elif amount:
            parts.append(f"{amount}{name}")
    return " ".join(parts)


class TestTimespan:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("39min 54.670383s", 2394.670383),
            ("1h 27min 49.641994s", 5269.641994),
            ("2w 3d", 1_468_800.0),
            ("1y 2month", 36_817_200.0),
            ("500ms", 0.5),
            ("250us", 0.000_25),
            ("0", 0.0),
        ],
    )
    def test_what_systemctl_show_prints(self, text: str, seconds: float) -> None:
        assert parse_timespan(text) == pytest.approx(seconds)

    @pytest.mark.parametrize("text", ["", "infinity", "n/a", "5 min", "5min5s", "1x", "-3s"])
    def test_anything_else_is_not_a_time(self, text: str) -> None:
        """Unset, never, or garbage: None, never an exception (status must still print)."""
        assert parse_timespan(text) is None

    @given(seconds=st.integers(0, 10**9), micros=st.integers(0, 999_999))
    def test_systemds_rendering_parses_back(self, seconds: int, micros: int) -> None:
        parsed = parse_timespan(format_timespan(seconds, micros))
        assert parsed == pytest.approx(seconds + micros / 1e6, abs=1e-6)


class TestTimestamp:
    def test_systemctl_show_under_tz_utc(self) -> None:
        assert parse_timestamp("Mon 2026-12-07 00:19:24 UTC") == 1796602764.0
        assert parse_timestamp("@1796602764") == 1796602764.0

    @pytest.mark.parametrize(
        "text", ["", "n/a", "Mon 2026-12-07 00:19:24 CET", "2026-12-07 00:19:24", "@x"]
    )
    def test_other_zones_and_garbage_are_not_guessed(self, text: str) -> None:
        assert parse_timestamp(text) is None


class TestNextElapse:
    def test_the_after_boot_run_today_beats_the_calendar_run_tomorrow(self) -> None:
        """Issue #17: list-timers said 7 minutes, status said tomorrow."""
        now, uptime = 1_796_541_395.0, 3_629.0
        at = next_elapse(
            realtime=1_796_602_503.0, monotonic=uptime + 420, now_realtime=now, now_monotonic=uptime
        )
        assert at == now + 420

    def test_a_timer_with_no_trigger_left_has_no_next_run(self) -> None:
        assert (
            next_elapse(realtime=None, monotonic=None, now_realtime=1.0, now_monotonic=1.0) is None
        )
        assert next_elapse(realtime=0, monotonic=0, now_realtime=1.0, now_monotonic=1.0) is None

    @given(
        realtime=st.none() | st.floats(1.0, 4e9),
        monotonic=st.none() | st.floats(1.0, 1e8),
        now_realtime=st.floats(1.0, 4e9),
        now_monotonic=st.floats(0.0, 1e8),
    )
    def test_never_later_than_either_trigger(
        self,
        realtime: float | None,
        monotonic: float | None,
        now_realtime: float,
        now_monotonic: float,
    ) -> None:
        at = next_elapse(
            realtime=realtime,
            monotonic=monotonic,
            now_realtime=now_realtime,
            now_monotonic=now_monotonic,
        )
        assert (at is None) == (realtime is None and monotonic is None)
        if realtime is not None:
            assert at is not None and at <= realtime
        if monotonic is not None:
            assert at is not None and at <= now_realtime + (monotonic - now_monotonic) + 1e-6


SETTINGS = RetrySettings(first=300, max_delay=3600, attempts=6)
ours_75 = FailedStart(result="exit-code", code="exited", status="75", invocation="inv-1")


class TestRetryDelay:
    def test_the_default_schedule_doubles_up_to_an_hour(self) -> None:
        """The longest the defaults wait: 5, 10, 20, 40, 60, 60 minutes."""
        ceilings = [retry_delay(n, SETTINGS, fraction=0.999_999) for n in range(1, 7)]
        assert ceilings == [300, 600, 1200, 2400, 3600, 3600]
        assert retry_delay(7, SETTINGS, fraction=0.5) is None

    @given(
        attempt=st.integers(-3, 200),
        first=st.integers(1, 86_400),
        extra=st.integers(0, 86_400),
        attempts=st.integers(0, 100),
        fraction=st.floats(0.0, 1.0, exclude_max=True),
    )
    def test_never_at_once_never_past_the_cap_never_beyond_the_attempts(
        self, attempt: int, first: int, extra: int, attempts: int, fraction: float
    ) -> None:
        settings = RetrySettings(first=first, max_delay=first + extra, attempts=attempts)
        delay = retry_delay(attempt, settings, fraction=fraction)
        if not 1 <= attempt <= attempts:
            assert delay is None
            return
        ceiling = min(settings.max_delay, first * 2 ** (attempt - 1))
        assert delay is not None
        assert max(1, math.floor(ceiling / 2)) <= delay <= max(1, ceiling)


class TestDecide:
    def test_a_recorded_exit_75_is_retried_with_its_streak_as_the_attempt(self) -> None:
        decision = decide(
            ours_75, {"invocation": "inv-1", "temporary_streak": 2}, SETTINGS, fraction=0.0
        )
        assert decision == Retry(attempt=2, of=6, delay=300)

    def test_the_attempts_used_up_is_a_report_saying_so(self) -> None:
        decision = decide(
            ours_75, {"invocation": "inv-1", "temporary_streak": 7}, SETTINGS, fraction=0.0
        )
        assert isinstance(decision, Report)
        assert "temporary failures in 7 consecutive runs" in decision.notes[0]
        assert "#temporary-failure" in decision.notes[0]

    def test_an_exit_75_nobody_recorded_is_one_more_than_the_streak(self) -> None:
        """The lock was busy: the run stopped before recording anything."""
        decision = decide(
            ours_75, {"invocation": "older", "temporary_streak": 1}, SETTINGS, fraction=0.0
        )
        assert decision == Retry(attempt=2, of=6, delay=300)

    def test_a_start_that_can_never_succeed_is_reported_with_the_fix(self) -> None:
        namespace = FailedStart("exit-code", "exited", "226", "inv-2")
        decision = decide(namespace, {"invocation": "inv-1"}, SETTINGS, fraction=0.0)
        assert isinstance(decision, Report)
        (note,) = decision.notes
        assert "exit 226/NAMESPACE" in note
        assert "runbooks/token-renewer.md#unit-cannot-start" in note

    def test_without_word_from_systemd_nothing_is_retried(self) -> None:
        """By hand, or systemd < 251: a person is told."""
        assert decide(None, {"exit_code": 75, "temporary_streak": 1}, SETTINGS, fraction=0.0) == (
            Report()
        )

    @given(
        code=st.sampled_from(["exited", "killed", "dumped", ""]),
        status=st.sampled_from(["0", "1", "2", "75", "78", "203", "226", "TERM", "KILL", ""]),
        result=st.sampled_from(["exit-code", "signal", "timeout", "core-dump", "start-limit-hit"]),
        same=st.booleans(),
        streak=st.none() | st.integers(-2, 20) | st.text(max_size=3),
        attempts=st.integers(0, 10),
        fraction=st.floats(0.0, 1.0, exclude_max=True),
    )
    def test_only_exit_75_is_ever_retried_and_never_past_the_attempts(
        self,
        *,
        code: str,
        status: str,
        result: str,
        same: bool,
        streak: object,
        attempts: int,
        fraction: float,
    ) -> None:
        failed = FailedStart(result=result, code=code, status=status, invocation="inv")
        last_run = {"invocation": "inv" if same else "other", "temporary_streak": streak}
        settings = RetrySettings(first=60, max_delay=600, attempts=attempts)
        decision = decide(failed, last_run, settings, fraction=fraction)
        if isinstance(decision, Retry):
            assert (code, status) == ("exited", "75")
            assert 1 <= decision.attempt <= attempts
            assert decision.delay >= 1
        elif not same:
            assert decision.notes  # what nobody recorded is explained
            assert all(note for note in decision.notes)


class TestDescribe:
    @pytest.mark.parametrize(
        ("failed", "words"),
        [
            (FailedStart("exit-code", "exited", "203", ""), "exit 203/EXEC"),
            (FailedStart("exit-code", "exited", "78", ""), "exit 78: the config is invalid"),
            (FailedStart("signal", "killed", "KILL", ""), "killed by signal KILL"),
            (FailedStart("core-dump", "dumped", "SEGV", ""), "crashed (core dump)"),
            (FailedStart("timeout", "killed", "TERM", ""), "TimeoutStartSec="),
            (FailedStart("start-limit-hit", "", "", ""), "start-limit-hit"),
            (FailedStart("exit-code", "exited", "99", ""), "exit 99"),
        ],
    )
    def test_systemds_verdict_in_words(self, failed: FailedStart, words: str) -> None:
        assert words in describe(failed)


class TestStreak:
    @pytest.mark.parametrize(
        ("before", "code", "after"),
        [({}, 75, 1), ({"temporary_streak": 3}, 75, 4), ({"temporary_streak": 3}, 0, 0)],
    )
    def test_consecutive_exit_75_runs_are_counted(
        self, before: dict[str, int], code: int, after: int
    ) -> None:
        assert next_streak(before, code) == after

    @given(before=st.none() | st.integers() | st.text() | st.floats(), code=st.integers(0, 255))
    def test_whatever_the_file_held_the_count_is_sane(self, before: object, code: int) -> None:
        streak = next_streak({"temporary_streak": before}, code)
        assert streak >= 0
        assert (streak == 0) == (code != 75)
