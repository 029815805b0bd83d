"""`renewer status` and the timer: last and next run, a pending retry, a plain word when off.

``systemctl --user`` is a recording stand-in here (no user manager needed)
that prints what systemd 252 prints for ``show``; the outputs below were taken
from a real user manager running these units. tests/usermanager/ checks the
same against the real manager, next to what ``list-timers`` says.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from renewer.systemd import parse_show
from tests.integration.conftest import World
from tests.ops.stand_ins import SHOW_ENABLED as ENABLED
from tests.ops.stand_ins import calls, install_recorder

DISABLED = """\
NextElapseUSecRealtime=
NextElapseUSecMonotonic=infinity
LastTriggerUSec=
Result=success
Id=renewer.timer
LoadState=loaded
ActiveState=inactive
UnitFileState=disabled

Result=success
Id=renewer.service
LoadState=loaded
ActiveState=inactive
UnitFileState=static
"""
NOT_FOUND = """\
NextElapseUSecRealtime=
NextElapseUSecMonotonic=infinity
LastTriggerUSec=
Result=success
Id=renewer.timer
LoadState=not-found
ActiveState=inactive
UnitFileState=

Result=success
Id=renewer.service
LoadState=not-found
ActiveState=inactive
UnitFileState=
"""
START_LIMIT = ENABLED.replace(
    "Result=success\nId=renewer.service\nLoadState=loaded\nActiveState=inactive",
    "Result=start-limit-hit\nId=renewer.service\nLoadState=loaded\nActiveState=failed",
)
# Captured at an uptime of 3629 s, one minute after the user manager started: the
# after-boot trigger (OnBootSec=2min + RandomizedDelaySec) is 1h 27min 49s after
# boot, today, and a retry was armed 600 s before (renewer-retry@600.timer).
UPTIME = 3629.12
WITH_RETRY = """\
NextElapseUSecRealtime=Mon 2026-12-07 00:15:03 UTC
NextElapseUSecMonotonic=1h 27min 49.641994s
LastTriggerUSec=
Result=success
Id=renewer.timer
LoadState=loaded
ActiveState=active
UnitFileState=enabled

Result=exit-code
Id=renewer.service
LoadState=loaded
ActiveState=failed
UnitFileState=static

NextElapseUSecRealtime=
NextElapseUSecMonotonic=1h 10min 28.420522s
LastTriggerUSec=
Result=success
Id=renewer-retry@600.timer
LoadState=loaded
ActiveState=active
UnitFileState=static
"""
NOW = 1796541395.0  # 2026-12-06 06:36:35 UTC, the wall clock at that uptime


@pytest.fixture
def healthy(world: World) -> World:
    world.write(world.mint_ours())
    assert world.cli("run").code == 0
    return world


def status_with(world: World, show: str, *args: str, tmp_path: Path) -> tuple[int, str]:
    """`renewer status` with a stand-in systemctl that prints *show*."""
    bin_dir = tmp_path / "bin"
    log = install_recorder(bin_dir, "systemctl", why="no systemd user manager on a test machine")
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{bin_dir}:{saved}"
    try:
        result = world.cli("status", *args, env={"FAKE_SYSTEMCTL_STDOUT": show})
    finally:
        os.environ["PATH"] = saved
    (argv,) = calls(log)
    units = ["renewer.timer", "renewer.service", "renewer-retry@*.timer"]
    assert argv[:6] == ["--user", "show", *units, "--property=Id"]
    return result.code, result.out


class TestTimerInStatus:
    def test_an_enabled_timer_shows_its_last_and_next_run(
        self, healthy: World, tmp_path: Path
    ) -> None:
        code, out = status_with(healthy, ENABLED, tmp_path=tmp_path)
        assert code == 0
        (line,) = [line for line in out.splitlines() if line.startswith("timer:")]
        assert line.startswith("timer: enabled; last ran 2026-11-26 12:21:14Z (")
        assert ", next run 2026-11-27 00:19:42Z (" in line
        assert out.splitlines()[-1] == "healthy"

    def test_json_gives_the_next_run_as_a_time_and_a_number(
        self, healthy: World, tmp_path: Path
    ) -> None:
        code, out = status_with(healthy, ENABLED, "--json", tmp_path=tmp_path)
        timer = json.loads(out)["timer"]
        assert code == 0
        assert timer["next_run"] == "2026-11-27 00:19:42Z"
        assert timer["next_run_at"] == timer["timer_next_at"] == 1795738782.0
        assert timer["last_run"] == "2026-11-26 12:21:14Z"
        assert timer["retry"] is None

    def test_a_disabled_timer_is_said_plainly_and_needs_attention(
        self, healthy: World, tmp_path: Path
    ) -> None:
        code, out = status_with(healthy, DISABLED, tmp_path=tmp_path)
        assert code == 1
        assert "timer: NOT ENABLED (disabled) — the daily run will not happen" in out
        assert (
            "attention: renewer: renewer.timer is not enabled (disabled): "
            "systemctl --user enable --now renewer.timer"
        ) in out

    def test_the_brief_banner_mentions_a_missing_timer(
        self, healthy: World, tmp_path: Path
    ) -> None:
        code, out = status_with(healthy, NOT_FOUND, "--brief", tmp_path=tmp_path)
        assert code == 1
        assert out.startswith("renewer: renewer: renewer.timer is not installed")

    def test_a_service_stuck_in_failed_says_how_to_reset_it(
        self, healthy: World, tmp_path: Path
    ) -> None:
        code, out = status_with(healthy, START_LIMIT, "--json", tmp_path=tmp_path)
        report = json.loads(out)
        assert code == 1
        assert report["timer"]["service"] == {"active": "failed", "result": "start-limit-hit"}
        assert "systemctl --user reset-failed renewer.service" in report["attention"][0]["reason"]

    def test_the_brief_banner_is_silent_when_healthy(self, healthy: World, tmp_path: Path) -> None:
        code, out = status_with(healthy, ENABLED, "--brief", tmp_path=tmp_path)
        assert (code, out) == (0, "")


class TestParseShow:
    def test_blocks_are_found_by_their_id(self) -> None:
        status = parse_show(ENABLED, now_realtime=NOW, now_monotonic=UPTIME)
        assert (status.load, status.enabled, status.running) == ("loaded", "enabled", True)
        assert status.service_active == "inactive"
        assert status.problems() == []

    def test_the_next_run_is_the_earlier_trigger_as_list_timers_has_it(self) -> None:
        """Issue #17: the after-boot trigger today, not the calendar one tomorrow."""
        status = parse_show(WITH_RETRY, now_realtime=NOW, now_monotonic=UPTIME)
        assert status.timer_next_at == pytest.approx(NOW + (5269.641994 - UPTIME))
        assert status.retry_unit == "renewer-retry@600.timer"
        assert status.retry_at == pytest.approx(NOW + (4228.420522 - UPTIME))
        assert status.next_run_at == status.retry_at

    def test_a_failed_service_with_a_retry_pending_needs_no_one_yet(self) -> None:
        status = parse_show(WITH_RETRY, now_realtime=NOW, now_monotonic=UPTIME)
        assert status.service_active == "failed"
        assert status.problems() == []
        without_retry = WITH_RETRY.split("\n\n")
        lone = parse_show("\n\n".join(without_retry[:2]), now_realtime=NOW, now_monotonic=UPTIME)
        assert "reset-failed renewer.service" in lone.problems()[0]

    def test_empty_output_is_not_installed(self) -> None:
        parsed = parse_show("", now_realtime=NOW, now_monotonic=UPTIME)
        assert parsed.problems()[0].startswith("renewer.timer is not installed")
        assert parsed.next_run_at is None


class TestRecoveryInStatus:
    def test_a_manual_mint_clears_the_failure_but_not_the_run_record(self, world: World) -> None:
        """After DRIFT and `renewer mint`, status is healthy; the last *run* stays exit 1."""
        world.write(world.weak_clobber())
        assert world.cli("run").code == 1
        assert world.cli("status").code == 1
        world.write(world.admin_clobber())  # what `vault login -method=oidc` leaves

        assert world.cli("mint", "devvm").code == 0

        result = world.cli("status", "--json")
        report = json.loads(result.out)
        assert result.code == 0, report["attention"]
        assert report["items"][0]["event"] == "token.minted"
        assert report["last_run"]["exit_code"] == 1


class TestExpiryAgainstTheTimer:
    """Issue 16, item 1: an expiry is judged against the next run the user manager reports."""

    @staticmethod
    def _shortened(world: World, *, hours: float) -> None:
        """The recorded token now expires in *hours* (status only reads the record)."""
        path = world.state / "state.json"
        document = json.loads(path.read_text())
        (item,) = [v for k, v in document["items"].items() if k.startswith("token/")]
        item["details"]["expires_at"] = time.time() + hours * 3600
        path.write_text(json.dumps(document))

    @staticmethod
    def _show(in_hours: float) -> str:
        moment = time.strftime(
            "%a %Y-%m-%d %H:%M:%S UTC", time.gmtime(time.time() + in_hours * 3600)
        )
        return ENABLED.replace("Fri 2026-11-27 00:19:42 UTC", moment)

    def test_a_token_that_outlives_the_next_run_is_healthy(
        self, healthy: World, tmp_path: Path
    ) -> None:
        """Ten hours left, the timer fires in two: that run renews it."""
        self._shortened(healthy, hours=10)

        code, out = status_with(healthy, self._show(2), tmp_path=tmp_path)

        assert code == 0, out
        assert out.splitlines()[-1] == "healthy"

    def test_a_token_that_dies_before_the_next_run_needs_a_person(
        self, healthy: World, tmp_path: Path
    ) -> None:
        """Ten hours left, the timer fires in a day: said now, with the moment."""
        self._shortened(healthy, hours=10)

        code, out = status_with(healthy, self._show(24), tmp_path=tmp_path)

        assert code == 1
        (line,) = [line for line in out.splitlines() if line.startswith("attention: token/")]
        assert "expires in 9h 59m, before the next run (~" in line or "expires in 10h 0m" in line
