"""Tests for the small pure decisions: durations, naming, capping, backoff, outcomes, health."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.backoff import MIN_ATTEMPT_TIME, retry_delay
from renewer.core.duration import format_duration, format_ttl, parse_duration
from renewer.core.health import RUN_SLACK, STALE_RUN_AFTER, check_attention, next_run_at
from renewer.core.naming import vault_display_name
from renewer.core.outcome import ItemResult, Outcome, exit_code, outcome_for_exit_code, worst
from renewer.core.renewal import CapCause, cap_advice, check_renewal


class TestDuration:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("768h", 2_764_800),
            ("32d", 2_764_800),
            ("90", 90),
            (90, 90),
            ("1h30m", 5400),
            ("15m", 900),
        ],
    )
    def test_vault_forms_parse(self, text: str | int, seconds: int) -> None:
        """The forms Vault accepts: units s/m/h/d, combinations, bare seconds."""
        assert parse_duration(text) == seconds

    @pytest.mark.parametrize("text", ["", "h", "1.5h", "-3", "10 years", "1h 30m", "1w"])
    def test_other_forms_are_refused_with_the_expected_shape(self, text: str) -> None:
        """The message says what a duration looks like."""
        with pytest.raises(ValueError, match="768h"):
            parse_duration(text)

    def test_a_whole_float_is_whole_seconds_and_a_fraction_is_refused(self) -> None:
        """YAML's 90.0 passes the schema's "integer" (issue #8 fuzz: it crashed check)."""
        assert parse_duration(90.0) == 90
        with pytest.raises(ValueError, match="whole seconds"):
            parse_duration(1.5)

    def test_go_style_formatting_trims_zero_units(self) -> None:
        """Vault's warning strings use this form."""
        assert [format_duration(s) for s in (2_764_800, 5400, 100, 0)] == [
            "768h",
            "1h30m",
            "1m40s",
            "0s",
        ]

    def test_ttl_formatting_is_human(self) -> None:
        """Log lines say 31d 23h, not 2761200s."""
        assert [format_ttl(s) for s in (2_761_200, 3600 * 6 + 300, 45, 0)] == [
            "31d 23h",
            "6h 5m",
            "45s",
            "expired",
        ]

    @given(st.integers(min_value=0, max_value=10**8))
    def test_formatting_round_trips(self, seconds: int) -> None:
        """What we print, we can parse back."""
        assert parse_duration(format_duration(seconds)) == seconds


class TestVaultDisplayName:
    @pytest.mark.parametrize(
        ("requested", "reported"),
        [
            ("devvm-wizard", "token-devvm-wizard"),
            ("", "token"),
            ("My App_1.", "token-My-App-1"),
            ("a.b.", "token-a-b"),
            ("x..", "token-x-"),
            ("token", "token-token"),
        ],
    )
    def test_vault_prefixes_and_sanitises(self, requested: str, reported: str) -> None:
        """The reference's §5 examples."""
        assert vault_display_name(requested) == reported


@pytest.mark.floor(12)
class TestCheckRenewal:
    def test_a_full_periodic_renewal_is_ok(self) -> None:
        """Granted the whole period, no warning."""
        assert check_renewal(expected=3600, granted=3600, warnings=()).outcome is Outcome.OK

    def test_a_capping_warning_is_a_warning(self) -> None:
        """Vault's 200 with `TTL ... capped` is not an OK."""
        warning = (
            'TTL of "768h" exceeded the effective max_ttl of "2h"; TTL value is capped accordingly'
        )
        verdict = check_renewal(expected=2_764_800, granted=7200, warnings=(warning,))
        assert verdict.capped
        assert verdict.outcome is Outcome.WARNING
        assert "capped" in verdict.reason

    def test_a_short_grant_without_warning_is_still_capped(self) -> None:
        """The TTL stopped growing (vault#1079): detected by the numbers alone."""
        assert check_renewal(expected=3600, granted=600, warnings=()).capped

    def test_unrelated_warnings_do_not_count(self) -> None:
        """Only capping warnings matter."""
        assert not check_renewal(expected=60, granted=60, warnings=("something else",)).capped


MOUNT_CAP = (
    'period of "768h" exceeded the effective max_ttl of "24h"; period value is capped accordingly'
)
EXPLICIT_CAP = (
    'TTL of "768h0m0s" exceeded the effective max_ttl of "44m59s"; TTL value is capped accordingly'
)


class TestWhereACapComesFrom:
    """Issue 15, item 6: a mount cap and an explicit max look alike and mean opposite things."""

    def test_a_period_capped_by_the_mount_is_the_mounts_max_ttl(self) -> None:
        """OpenBao/Vault with `auth tune -max-lease-ttl=24h token/`: each grant is 24h."""
        verdict = check_renewal(expected=2_764_800, granted=86400, warnings=(MOUNT_CAP,))
        assert (verdict.cause, verdict.limit) == (CapCause.MOUNT_MAX, 86400)

    def test_a_period_capped_by_its_own_explicit_max_is_the_explicit_max(self) -> None:
        warning = MOUNT_CAP.replace('"24h"', '"1h30m0s"')
        verdict = check_renewal(
            expected=2_764_800, granted=5400, warnings=(warning,), explicit_max_ttl=5400
        )
        assert verdict.cause is CapCause.EXPLICIT_MAX

    def test_the_end_of_an_explicit_max_is_the_explicit_max(self) -> None:
        verdict = check_renewal(expected=3600, granted=2699, warnings=(EXPLICIT_CAP,))
        assert (verdict.cause, verdict.limit) == (CapCause.EXPLICIT_MAX, 2699)

    def test_mount_advice_says_renewals_extend_it_and_names_the_tune_command(self) -> None:
        verdict = check_renewal(expected=2_764_800, granted=86400, warnings=(MOUNT_CAP,))
        words = cap_advice(
            verdict, sink="devvm", period=2_764_800, cli="bao", explicit_from_config=False
        )
        assert "token mount's max TTL" in words
        assert "each renewal extends it by 24h again" in words
        assert "a fresh mint is capped the same" in words
        assert "`bao auth tune -max-lease-ttl=768h token/`" in words
        assert "renewals cannot" not in words and "renewer mint" not in words

    def test_explicit_advice_says_renewals_cannot_and_to_mint(self) -> None:
        verdict = check_renewal(expected=3600, granted=2699, warnings=(EXPLICIT_CAP,))
        words = cap_advice(
            verdict, sink="devvm", period=3600, cli="vault", explicit_from_config=True
        )
        assert "explicit max TTL (set by mint.explicit_max_ttl in the config)" in words
        assert "renewals cannot extend past it" in words
        assert "renewer mint devvm" in words
        assert "auth tune" not in words


class TestRetryDelay:
    def test_full_jitter_grows_exponentially_up_to_the_cap(self) -> None:
        """fraction 1.0 shows the ceiling: base·2^(n-1), capped."""
        ceilings = [
            retry_delay(n, retry_after=None, base=0.5, cap=4, fraction=1.0, remaining=99)
            for n in range(1, 6)
        ]
        assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0]

    def test_retry_after_is_a_floor(self) -> None:
        """A 429's Retry-After is honoured even when jitter picks less."""
        assert retry_delay(1, retry_after=3, base=0.5, cap=8, fraction=0.0, remaining=60) == 3

    def test_no_retry_starts_past_the_deadline(self) -> None:
        """Giving up beats overrunning the run's deadline."""
        assert retry_delay(1, retry_after=10, base=0.5, cap=8, fraction=0.5, remaining=5) is None

    @given(
        attempt=st.integers(min_value=1, max_value=30),
        fraction=st.floats(min_value=0, max_value=0.999),
        remaining=st.floats(min_value=0, max_value=120),
        retry_after=st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
    )
    def test_a_delay_always_leaves_time_for_the_attempt(
        self, attempt: int, fraction: float, remaining: float, retry_after: float | None
    ) -> None:
        """Whatever happens, sleep + one attempt fits in what is left."""
        delay = retry_delay(
            attempt,
            retry_after=retry_after,
            base=0.5,
            cap=8,
            fraction=fraction,
            remaining=remaining,
        )
        if delay is not None:
            assert 0 <= delay
            assert delay + MIN_ATTEMPT_TIME <= remaining


def result(outcome: Outcome) -> ItemResult:
    return ItemResult(kind="token", name="x", outcome=outcome, event="e", summary="s")


class TestOutcomes:
    def test_exit_code_is_the_worst_item(self) -> None:
        """A needs-human item beats a temporary one: OnFailure must fire."""
        assert (
            exit_code([result(Outcome.OK), result(Outcome.TEMPORARY), result(Outcome.NEEDS_HUMAN)])
            == 1
        )
        assert exit_code([result(Outcome.HEALED), result(Outcome.TEMPORARY)]) == 75
        assert exit_code([result(Outcome.NEEDS_HUMAN), result(Outcome.CONFIG)]) == 78
        assert exit_code([result(Outcome.HEALED), result(Outcome.WARNING)]) == 0
        assert exit_code([]) == 0

    def test_a_heal_is_healthy_and_a_warning_is_not(self) -> None:
        """HEALED needs nobody; WARNING asks for a look."""
        assert Outcome.HEALED.healthy
        assert not Outcome.WARNING.healthy

    @given(st.lists(st.sampled_from(list(Outcome))))
    def test_worst_is_the_maximum_rank(self, outcomes: list[Outcome]) -> None:
        """Order-independent and never better than any input."""
        chosen = worst(outcomes)
        assert all(chosen.rank >= outcome.rank for outcome in outcomes)
        assert worst(list(reversed(outcomes))) is chosen

    def test_error_exit_codes_map_back_to_outcomes(self) -> None:
        """An item that raised counts as what its error means."""
        assert [outcome_for_exit_code(c) for c in (1, 75, 78)] == [
            Outcome.NEEDS_HUMAN,
            Outcome.TEMPORARY,
            Outcome.CONFIG,
        ]


NOW = 1_800_000_000.0
DAY = 86400.0


class TestAttention:
    def test_never_ran_needs_attention(self) -> None:
        """No record at all is not healthy."""
        reasons = check_attention({}, {}, now=NOW, next_run=NOW + DAY)
        assert reasons[0].reason == "renewer has never completed a run"

    def test_a_recent_healthy_run_needs_nothing(self) -> None:
        """The normal case."""
        items = {"token/devvm": {"healthy": True, "details": {"expires_at": NOW + 30 * DAY}}}
        assert (
            check_attention(items, {"finished_at": NOW - 3600}, now=NOW, next_run=NOW + DAY) == ()
        )

    def test_a_stale_run_an_unhealthy_item_and_a_near_expiry_each_count(self) -> None:
        """Three independent reasons, reported in a stable order."""
        items = {
            "token/a": {"healthy": False, "summary": "DRIFT a"},
            "token/b": {"healthy": True, "details": {"expires_at": NOW + 3 * 3600}},
        }
        finished = {"finished_at": NOW - STALE_RUN_AFTER - 1}
        reasons = check_attention(items, finished, now=NOW, next_run=NOW + DAY)
        assert [r.item for r in reasons] == ["", "token/a", "token/b"]
        assert reasons[1].reason == "DRIFT a"
        assert reasons[2].reason.startswith("expires in 3h 0m, before the next run (~")

    def test_a_refreshed_hourly_token_on_a_daily_timer_is_healthy(self) -> None:
        """Issue 16: a 1-hour OAuth token refreshed every run is not 'attention'."""
        details = {"expires_at": NOW + 3540, "refreshes_after_expiry": True}
        items = {"credential/x": {"healthy": True, "details": details}}

        assert check_attention(items, {"finished_at": NOW}, now=NOW, next_run=NOW + DAY) == ()

    def test_an_expiry_is_judged_against_the_next_run(self) -> None:
        """A Vault token must outlive the next run plus its slack; the timer's elapse decides."""
        details = {"expires_at": NOW + 5 * 3600}
        items = {"token/t": {"healthy": True, "details": details}}
        last = {"finished_at": NOW}

        assert check_attention(items, last, now=NOW, next_run=NOW + 3600) == ()
        late = check_attention(items, last, now=NOW, next_run=NOW + 4.5 * 3600)
        assert [r.item for r in late] == ["token/t"]

    def test_an_expired_item_says_when(self) -> None:
        """Past its expiry: the reason gives the moment, in UTC."""
        items = {"token/t": {"healthy": True, "details": {"expires_at": NOW - 60}}}
        reasons = check_attention(items, {"finished_at": NOW}, now=NOW, next_run=NOW + DAY)
        assert reasons[0].reason == "expired at 2027-01-15 07:59 UTC"

    def test_a_longer_interval_moves_the_stale_threshold(self) -> None:
        """A weekly timer is not stale after two days."""
        last = {"finished_at": NOW - 3 * DAY}
        assert check_attention({}, last, now=NOW, next_run=NOW + DAY, interval=7 * DAY) == ()
        assert check_attention({}, last, now=NOW, next_run=NOW + DAY) != ()


class TestNextRun:
    def test_the_timer_elapse_wins(self) -> None:
        """The user manager knows best (an after-boot trigger, a calendar)."""
        assert next_run_at(timer_next=NOW + 420, last_finished=NOW, interval=DAY, now=NOW) == (
            NOW + 420
        )

    def test_without_a_timer_the_interval_counts_from_the_last_run(self) -> None:
        """Last run + interval, but never in the past; no run at all: from now."""
        assert next_run_at(timer_next=None, last_finished=NOW - 3600, interval=DAY, now=NOW) == (
            NOW - 3600 + DAY
        )
        assert (
            next_run_at(timer_next=None, last_finished=NOW - 2 * DAY, interval=DAY, now=NOW) == NOW
        )
        assert next_run_at(timer_next=None, last_finished=None, interval=DAY, now=NOW) == NOW + DAY


@given(
    expires_in=st.integers(min_value=-86400, max_value=30 * 86400),  # whole seconds, as recorded
    next_in=st.integers(min_value=0, max_value=7 * 86400),
    self_renewing=st.booleans(),
)
def test_expiry_is_a_reason_exactly_when_the_next_run_cannot_renew_in_time(
    expires_in: int, next_in: int, self_renewing: bool
) -> None:
    """The promise of `status`: no wolf for self-renewing items, no silence for the others."""
    details = {"expires_at": NOW + expires_in, "refreshes_after_expiry": self_renewing}
    items = {"credential/c": {"healthy": True, "details": details}}

    reasons = check_attention(items, {"finished_at": NOW}, now=NOW, next_run=NOW + next_in)

    flagged = any(r.item == "credential/c" for r in reasons)
    assert flagged == (not self_renewing and expires_in < next_in + RUN_SLACK)
