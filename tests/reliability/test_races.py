"""Races between real renewer processes on one token file.

The processes are forked by the session's zygote (tests/reliability/zygote.py):
separate processes running the real CLI, started within milliseconds of each
other instead of half a second of imports apart, which makes the races
tighter, not looser. (tests/integration/test_token_run.py races five
``python -m renewer`` processes too.)

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

import os
import time

import pytest

from tests import leakguard
from tests.integration.conftest import World
from tests.reliability import tally
from tests.reliability.zygote import Child, Outcome, Zygote

LOOKUP = "auth/token/lookup-self"


def healed(result: Outcome) -> bool:
    return any(event.get("event") == "token.healed" for event in result.events())


def spawn(zygote: Zygote, world: World, *args: str, **env: str) -> Child:
    """``renewer ARGS`` for this world, forked now (the config is written once, before:
    rewriting it while other children read it would be the test's race, not renewer's)."""
    if not world.config_path.exists():
        world.write_config()
    base = {k: v for k, v in os.environ.items() if k not in {"VAULT_TOKEN", "VAULT_ADDR"}}
    argv = ["--config", str(world.config_path), "--log-format", "json", *args]
    return zygote.spawn(argv, env={**base, "HOME": str(world.home), **env})


def finish(zygote: Zygote, child: Child) -> Outcome:
    outcome = zygote.wait(child, timeout=120)
    leakguard.scan("child stdout", outcome.out)
    leakguard.scan("child stderr", outcome.err)
    return outcome


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
def test_ten_concurrent_runs_heal_once_and_leak_nothing(world: World, zygote: Zygote) -> None:
    """One mint, one HEALED, the other nine renew the new token; one token of ours left."""
    controls = world.vault.require_dev()
    world.write(world.mint_ours())
    assert world.cli("run").code == 0
    world.write(world.admin_clobber())
    world.lock_timeout = "120s"
    world.write_config()
    controls.reset_counters()

    children = [spawn(zygote, world, "run") for _ in range(10)]
    results = [finish(zygote, child) for child in children]

    assert [result.code for result in results] == [0] * 10, [r.err for r in results]
    assert sum(healed(result) for result in results) == 1
    assert controls.counters().get("auth/token/create-orphan") == 1
    assert_one_token_of_ours_in_the_file(world)
    assert all("Traceback" not in result.err for result in results)
    tally.record("race/ten-concurrent-runs", tries=10)


@pytest.mark.floor(8)
def test_a_manual_mint_during_a_timer_run_waits_then_mints(world: World, zygote: Zygote) -> None:
    """The run holds the lock (stalled on lookup-self); the mint waits for it, then mints."""
    controls = world.vault.require_dev()
    first = world.mint_ours()
    world.write(first)
    assert world.cli("run").code == 0
    world.lock_timeout = "60s"
    world.write_config()
    controls.reset_counters()
    controls.add_fault(kind="latency", path=LOOKUP, delay=1.2, count=1)
    authority = world.admin_clobber()

    timer = spawn(zygote, world, "run")
    wait_for_request(world, LOOKUP)
    manual = spawn(zygote, world, "mint", "devvm", VAULT_TOKEN=authority)
    minted = finish(zygote, manual)
    run = finish(zygote, timer)

    assert run.code == 0, run.err
    assert minted.code == 0, minted.err
    assert any(event.get("event") == "token.minted" for event in minted.events())
    assert minted.elapsed >= 0.8, f"the mint did not wait for the run's lock ({minted.elapsed}s)"
    assert world.read() != first
    assert world.lookup(first) is None, "the mint's sweep revokes the token it replaced"
    assert_one_token_of_ours_in_the_file(world)
    tally.record("race/mint-during-run", tries=1)


@pytest.mark.floor(8)
def test_a_lock_file_deleted_and_recreated_during_a_run_still_excludes(
    world: World, zygote: Zygote
) -> None:
    """Someone removes renewer.lock while a run holds it: the next run still waits its turn."""
    controls = world.vault.require_dev()
    world.write(world.mint_ours())
    assert world.cli("run").code == 0
    world.write(world.admin_clobber())
    world.lock_timeout = "60s"
    world.write_config()
    controls.reset_counters()
    controls.add_fault(kind="latency", path=LOOKUP, delay=1.2, count=1)

    first = spawn(zygote, world, "run")
    wait_for_request(world, LOOKUP)
    lock = world.state / "renewer.lock"
    lock.unlink()
    lock.touch(mode=0o600)
    second = spawn(zygote, world, "run")
    results = [finish(zygote, first), finish(zygote, second)]

    assert [result.code for result in results] == [0, 0], [r.err for r in results]
    assert results[1].elapsed >= 0.8, "the second run did not wait for the first"
    assert sum(healed(result) for result in results) == 1, "both runs healed: they overlapped"
    assert controls.counters().get("auth/token/create-orphan") == 1
    assert_one_token_of_ours_in_the_file(world)
    tally.record("race/lock-file-replaced", tries=1)
