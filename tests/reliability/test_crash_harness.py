"""The crash harness itself: crash points, the zygote, and proof that the checks can fail.

A harness that never fails proves nothing. Here a deliberately broken
renewer (``tests/reliability/sabotage.py``) is killed by the same loop the
real protocols use, and the loop must report the torn file or the leaked
token. Also: ``point#n`` and the trace work in a real ``python -m renewer``
process, the zygote's children pass exactly the same crash points as
``python -m renewer``, and temp files a kill leaves in *any* directory
renewer writes are removed by the next run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from renewer.files import TEMP_INFIX
from tests.integration.conftest import World, finish
from tests.reliability import tally
from tests.reliability.crash import Kill, distinct, kill_loop, occurrences, temp_files, trace
from tests.reliability.test_crash_tokens import HealProtocol
from tests.reliability.zygote import Zygote

PROBE = """
from renewer import crashpoints
for step in ("a", "b", "a", "a"):
    crashpoints.reached(step)
    print(step, flush=True)
"""


def probe(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


class TestCrashPoints:
    def test_the_nth_occurrence_is_the_one_that_kills(self) -> None:
        """``a#3``: the third time ``a`` is reached, not before."""
        done = probe({"RENEWER_CRASHPOINT": "a#3"})
        assert done.returncode == -9
        assert done.stdout.split() == ["a", "b", "a"]

    def test_a_plain_name_kills_at_the_first(self) -> None:
        done = probe({"RENEWER_CRASHPOINT": "b"})
        assert (done.returncode, done.stdout.split()) == (-9, ["a"])

    def test_the_trace_lists_every_point_in_order(self, tmp_path: Path) -> None:
        record = tmp_path / "trace"
        done = probe({"RENEWER_CRASHPOINT_TRACE": str(record)})
        assert done.returncode == 0
        assert record.read_text().split() == ["a", "b", "a", "a"]
        assert occurrences(record.read_text().split()) == ["a#1", "b#1", "a#2", "a#3"]
        assert distinct(record.read_text().split()) == ["a#1", "b#1"]


class TestZygote:
    def test_its_children_pass_the_same_points_as_python_m_renewer(
        self, world: World, zygote: Zygote
    ) -> None:
        """The heal traced in a forked child and in ``python -m renewer`` is the same list."""
        protocol = HealProtocol(world)
        protocol.setup()
        forked, _ = trace(protocol, zygote)

        record = world.home.parent / "python-m-trace.txt"
        protocol.arm()
        result = finish(world.process("run", env={"RENEWER_CRASHPOINT_TRACE": str(record)}))
        assert result.code == 0, result.err
        protocol.recover()

        assert record.read_text().split() == forked
        assert "heal.after_mint" in forked

    def test_a_killed_child_reports_minus_nine(self, world: World, zygote: Zygote) -> None:
        protocol = HealProtocol(world)
        protocol.setup()
        protocol.arm()
        outcome = zygote.run(
            protocol.argv(), env=protocol.env(RENEWER_CRASHPOINT="heal.after_mint")
        )
        assert outcome.killed and not outcome.killed_by_us
        protocol.recover()


class TestTheHarnessCanFail:
    @pytest.mark.floor(6)
    def test_a_truncate_then_write_renewer_is_caught_with_a_torn_token_file(
        self, world: World, zygote: Zygote
    ) -> None:
        """Naive writes, killed between the halves of the token write: the loop says so."""
        protocol = HealProtocol(world)
        protocol.setup()
        protocol.sabotage = "naive-writes"
        points, _ = trace(protocol, zygote)
        token_write = occurrences(points)[occurrences(points).index("heal.after_write#1") - 3]
        assert token_write.startswith("write.written#")

        with pytest.raises(AssertionError, match="Vault does not know"):
            kill_loop(protocol, zygote, [Kill(point=token_write)], case="self-test")
        tally.record("harness-self-test/naive-writes-caught")

    @pytest.mark.floor(16)
    def test_a_heal_that_does_not_journal_its_mint_is_caught_leaking(
        self, world: World, zygote: Zygote
    ) -> None:
        """No ledger entry before the mint, ledger-only sweeps: a kill leaks a token."""
        world.sweep = "ledger"
        protocol = HealProtocol(world)
        protocol.setup()
        protocol.sabotage = "forget-mints"

        with pytest.raises(AssertionError, match="tokens of ours alive"):
            kill_loop(protocol, zygote, [Kill(point="heal.after_mint#1")], case="self-test")
        tally.record("harness-self-test/unjournaled-mint-caught")


class TestLeftovers:
    @pytest.mark.floor(6)
    def test_temp_files_of_dead_writers_are_removed_wherever_renewer_writes(
        self, world: World
    ) -> None:
        """State dir, rotation states, credential markers, metrics dir, token dir, store."""
        child = subprocess.Popen(["true"])
        child.wait()
        metrics = world.home / "metrics" / "renewer.prom"
        world.extra = f"metrics:\n  textfile: {metrics}\n"
        world.write(world.mint_ours())
        places = [
            world.state,
            world.state / "rotation",
            world.state / "credentials",
            metrics.parent,
            world.sink.parent,
        ]
        planted = []
        for directory in places:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f".x.json{TEMP_INFIX}{child.pid}.0badc0de"
            path.write_bytes(b"half a secr")
            planted.append(path)

        result = world.cli("run")

        assert result.code == 0, result.err
        assert not [path for path in planted if path.exists()]
        assert temp_files(world.home) == []
