"""Tests for renewer.lock: bounded wait, exit 75, inode check, released on death."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from renewer.errors import LockBusy
from renewer.lock import run_lock


class FakeClock:
    """A clock the test advances: the lock's bounded wait without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def hold_lock_in_child(state_dir: Path) -> subprocess.Popen[str]:
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from renewer.lock import run_lock
        with run_lock(Path({str(state_dir)!r}), timeout=1):
            print("held", flush=True)
            time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def stop(child: subprocess.Popen[str]) -> None:
    child.kill()
    child.wait()
    if child.stdout is not None:
        child.stdout.close()


@pytest.mark.floor(8)
class TestRunLock:
    def test_a_second_holder_waits_then_gets_lock_busy(self, tmp_path: Path) -> None:
        """Another live process holds it: bounded wait, then exit-75 error."""
        child = hold_lock_in_child(tmp_path)
        clock = FakeClock()
        try:
            with (
                pytest.raises(LockBusy) as caught,
                run_lock(tmp_path, timeout=2, clock=clock, sleep=clock.sleep),
            ):
                pass
            assert caught.value.exit_code == 75
            assert clock.now >= 2
        finally:
            stop(child)

    def test_the_lock_is_released_when_the_holder_is_killed(self, tmp_path: Path) -> None:
        """kill -9 drops the flock: no stale lock."""
        child = hold_lock_in_child(tmp_path)
        stop(child)
        with run_lock(tmp_path, timeout=1) as path:
            assert path.exists()

    def test_a_lock_file_replaced_under_a_holder_does_not_let_a_second_in(
        self, tmp_path: Path
    ) -> None:
        """Deleted and recreated while held: the directory lock still excludes (issue #8)."""
        child = hold_lock_in_child(tmp_path)
        clock = FakeClock()
        try:
            (tmp_path / "renewer.lock").unlink()
            (tmp_path / "renewer.lock").touch(mode=0o600)
            with (
                pytest.raises(LockBusy),
                run_lock(tmp_path, timeout=1, clock=clock, sleep=clock.sleep),
            ):
                pass
        finally:
            stop(child)
        with run_lock(tmp_path, timeout=1) as path:  # the holder gone, the new file is used
            assert path.stat().st_ino == (tmp_path / "renewer.lock").stat().st_ino

    def test_the_state_dir_is_created_private(self, tmp_path: Path) -> None:
        """0700, since it holds the ledger and runtime state."""
        state = tmp_path / "state"
        with run_lock(state, timeout=1):
            pass
        assert state.stat().st_mode & 0o777 == 0o700
