"""`renewer status` and the timer: last and next run, and a plain word when it is off.

``systemctl --user`` is a recording stand-in here (no user manager on a test
machine) that prints what systemd 252 prints for ``show``; the output below
was taken from a real user manager running these units.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from renewer.systemd import parse_show
from tests.integration.conftest import World
from tests.ops.stand_ins import SHOW_ENABLED as ENABLED
from tests.ops.stand_ins import calls, install_recorder

DISABLED = """\
NextElapseUSecRealtime=
LastTriggerUSec=
Result=success
LoadState=loaded
ActiveState=inactive
UnitFileState=disabled

Result=success
LoadState=loaded
ActiveState=inactive
UnitFileState=static
"""
NOT_FOUND = """\
NextElapseUSecRealtime=
LastTriggerUSec=
Result=success
LoadState=not-found
ActiveState=inactive
UnitFileState=

Result=success
LoadState=not-found
ActiveState=inactive
UnitFileState=
"""
START_LIMIT = ENABLED.replace(
    "Result=success\nLoadState=loaded\nActiveState=inactive",
    "Result=start-limit-hit\nLoadState=loaded\nActiveState=failed",
)


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
    assert argv[:5] == [
        "--user",
        "show",
        "renewer.timer",
        "renewer.service",
        "--property=ActiveState",
    ]
    return result.code, result.out


class TestTimerInStatus:
    def test_an_enabled_timer_shows_its_last_and_next_run(
        self, healthy: World, tmp_path: Path
    ) -> None:
        code, out = status_with(healthy, ENABLED, tmp_path=tmp_path)
        assert code == 0
        assert (
            "timer: enabled; last ran Thu 2026-11-26 12:21:14 UTC, "
            "next run Fri 2026-11-27 00:19:42 UTC"
        ) in out.splitlines()
        assert out.splitlines()[-1] == "healthy"

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
    def test_two_blocks_are_the_timer_then_the_service(self) -> None:
        status = parse_show(ENABLED)
        assert (status.load, status.enabled, status.running) == ("loaded", "enabled", True)
        assert status.service_active == "inactive"
        assert status.problems() == []

    def test_empty_output_is_not_installed(self) -> None:
        assert parse_show("").problems()[0].startswith("renewer.timer is not installed")


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
