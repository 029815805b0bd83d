"""Races between real ``python -m renewer`` processes on one token file.

* ten ``renewer run`` at once on a clobbered file: the lock serialises them,
  exactly one mint, one ``token.healed``, and afterwards exactly one token of
  ours alive in the dev server, the one in the file;
* a ``renewer mint`` started while a timer run holds the lock (the run is
  held inside the lock by a stall on its first Vault call): the mint waits,
  then mints; one token of ours remains;
* the lock file deleted and recreated while a run holds it: a second run
  must still wait (it would otherwise lock the new file and heal at the same
  time as the first).
"""

from __future__ import annotations

import contextlib
import subprocess
import time

import pytest

from tests.integration.conftest import CliResult, World, finish
from tests.reliability import tally

LOOKUP = "auth/token/lookup-self"


def healed(result: CliResult) -> bool:
    return any(event.get("event") == "token.healed" for event in result.events())


def wait_for_request(world: World, path: str, count: int = 1, timeout: float = 20) -> None:
    """Until the dev server has seen *count* requests for *path* (a process is inside)."""
    controls = world.vault.require_dev()
    deadline = time.monotonic() + timeout
    while controls.counters().get(path, 0) < count:
        assert time.monotonic() < deadline, f"no {path} request within {timeout}s"
        time.sleep(0.02)


def assert_one_token_of_ours_in_the_file(world: World) -> None:
    in_file = world.lookup(world.read())
    assert in_file is not None and in_file["display_name"] == world.ours
    alive = world.ours_alive()
    assert alive == [in_file["accessor"]], f"tokens of ours alive: {alive}"


@pytest.mark.floor(8)
def test_ten_concurrent_runs_heal_once_and_leak_nothing(world: World) -> None:
    """One mint, one HEALED, the other nine renew the new token; one token of ours left."""
    controls = world.vault.require_dev()
    world.write(world.mint_ours())
    assert world.cli("run").code == 0
    world.write(world.admin_clobber())
    world.lock_timeout = "120s"
    controls.reset_counters()

    processes = [world.process("run") for _ in range(10)]
    results = [finish(process, timeout=180) for process in processes]

    assert [result.code for result in results] == [0] * 10, [r.err for r in results]
    assert sum(healed(result) for result in results) == 1
    assert controls.counters().get("auth/token/create-orphan") == 1
    assert_one_token_of_ours_in_the_file(world)
    assert all("Traceback" not in result.err for result in results)
    tally.record("race/ten-concurrent-runs", tries=10)


@pytest.mark.floor(8)
def test_a_manual_mint_during_a_timer_run_waits_then_mints(world: World) -> None:
    """The run holds the lock (stalled on lookup-self); the mint waits for it, then mints."""
    controls = world.vault.require_dev()
    first = world.mint_ours()
    world.write(first)
    assert world.cli("run").code == 0
    world.lock_timeout = "60s"
    controls.reset_counters()
    controls.add_fault(kind="latency", path=LOOKUP, delay=2.0, count=1)
    authority = world.admin_clobber()

    timer = world.process("run")
    wait_for_request(world, LOOKUP)
    started = time.monotonic()
    manual = world.process("mint", "devvm", env={"VAULT_TOKEN": authority})
    minted = finish(manual)
    waited = time.monotonic() - started
    run = finish(timer)

    assert run.code == 0, run.err
    assert minted.code == 0, minted.err
    assert minted.event("token.minted")
    assert waited >= 1.0, f"the mint did not wait for the run's lock ({waited:.2f}s)"
    assert world.read() != first
    assert world.lookup(first) is None, "the mint's sweep revokes the token it replaced"
    assert_one_token_of_ours_in_the_file(world)
    tally.record("race/mint-during-run", tries=1)


@pytest.mark.floor(8)
def test_a_lock_file_deleted_and_recreated_during_a_run_still_excludes(world: World) -> None:
    """Someone removes renewer.lock while a run holds it: the next run still waits its turn."""
    controls = world.vault.require_dev()
    world.write(world.mint_ours())
    assert world.cli("run").code == 0
    world.write(world.admin_clobber())
    world.lock_timeout = "60s"
    controls.reset_counters()
    controls.add_fault(kind="latency", path=LOOKUP, delay=2.0, count=1)

    first = world.process("run")
    wait_for_request(world, LOOKUP)
    lock = world.state / "renewer.lock"
    lock.unlink()
    lock.touch(mode=0o600)
    second = world.process("run")
    with contextlib.suppress(subprocess.TimeoutExpired):
        second.wait(timeout=1.2)
    second_done_early = second.returncode is not None
    results = [finish(first), finish(second)]

    assert [result.code for result in results] == [0, 0], [r.err for r in results]
    assert not second_done_early, "the second run finished while the first held the lock"
    assert sum(healed(result) for result in results) == 1, "both runs healed: they overlapped"
    assert controls.counters().get("auth/token/create-orphan") == 1
    assert_one_token_of_ours_in_the_file(world)
    tally.record("race/lock-file-replaced", tries=1)
