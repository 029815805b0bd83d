"""Helpers of the fault tests: a run in this process on a virtual clock, and its log events.

Sleeps are recorded and added to the clock instead of slept, so a retry
budget of 20 s costs nothing, while real waits (a read timeout) still count:
the clock is ``time.monotonic() + everything slept``.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from renewer.core.outcome import exit_code
from renewer.logging import configure
from renewer.run import Runtime, run_once
from tests import leakguard
from tests.integration.conftest import World


@dataclass
class VirtualTime:
    """Monotonic time that jumps over sleeps; the sleeps are kept for assertions."""

    slept: list[float] = field(default_factory=list)
    offset: float = 0.0

    def now(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.offset += seconds


@dataclass
class Ran:
    code: int
    events: list[dict[str, Any]]
    err: str
    clock: VirtualTime

    def named(self, name: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("event") == name]

    def errors(self) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("level") == "error"]


def run_virtual(world: World, *, seed: int = 7) -> Ran:
    """``renewer run`` in this process with a virtual clock and seeded jitter."""
    world.write_config()
    world.capsys.readouterr()
    configure("json", environ={})
    clock = VirtualTime()
    runtime = Runtime(monotonic=clock.now, sleep=clock.sleep, rng=random.Random(seed))
    results = run_once(world.config(), runtime=runtime)
    err = world.capsys.readouterr().err
    leakguard.scan("run stderr", err)
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return Ran(exit_code(results), events, err, clock)
