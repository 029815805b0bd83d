"""The crash harness: SIGKILL a real renewer at every step of a write protocol, then check.

A :class:`Protocol` knows how to bring its write about (``arm``), what the
files must look like right after a kill (``check_killed``: every watched file
byte-identical to its old content or a complete, valid new one; secret files
and leftover temp files 0600), and what the next normal run must leave
(``recover``: exit 0, nothing lost, nothing leaked). The harness:

1. **traces** the protocol once (``RENEWER_CRASHPOINT_TRACE``): the list of
   crash points it passes, in order, and how long its work takes;
2. kills it at **named points**: each distinct point (short run) or every
   occurrence of every point (``write.renamed#3``, long run), through
   ``RENEWER_CRASHPOINT``, asserting that the child really died there;
3. kills it at **random moments**, delays drawn from the traced duration
   with a seeded RNG (the seed is in every failure message; set
   ``RENEWER_RELIABILITY_SEED`` to replay one);
4. after every kill and every recovery: no temp file is left in the home.

Children are forked by the session's :class:`~tests.reliability.zygote.Zygote`
(see there why not ``python -m renewer``; ``test_crash_harness.py`` checks
that both give the same trace).
"""

from __future__ import annotations

import os
import random
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from renewer.files import TEMP_INFIX
from tests import leakguard
from tests.reliability import tally
from tests.reliability.zygote import Outcome, Zygote

SEED = int(os.environ.get("RENEWER_RELIABILITY_SEED") or random.SystemRandom().randrange(1 << 30))
TRACE_VARIABLE = "RENEWER_CRASHPOINT_TRACE"


@dataclass(frozen=True)
class Kill:
    """Where to kill: a crash point (``"write.renamed#2"``) or a random delay in seconds."""

    point: str = ""
    delay: float | None = None

    def describe(self) -> str:
        return self.point or f"random kill after {self.delay:.3f}s"


class Protocol:
    """One write protocol of renewer, as the harness drives it. Subclasses fill in the steps."""

    name = ""
    args: tuple[str, ...] = ("run",)
    success_code = 0
    sabotage = ""  # tests of the harness itself break the killed child on purpose

    def __init__(self, home: Path, config_path: Path) -> None:
        self.home = home
        self.config_path = config_path
        self.kill = Kill()  # the kill being exercised, for protocols whose outcome depends on it

    # --- what subclasses provide --------------------------------------------

    def setup(self) -> None:
        """Once, before the trace: the steady state every kill starts from."""

    def arm(self) -> None:
        """Before each kill: make the protocol due (clobber the token, age the credential...)."""

    def check_killed(self, outcome: Outcome) -> None:
        """Right after a kill: old-or-new, parse-valid, private."""

    def recover(self) -> str:
        """The next normal run(s) and the end state; return "pass" or a named variant."""
        return "pass"

    def extra_env(self) -> dict[str, str]:
        return {}

    # --- shared ---------------------------------------------------------------

    def argv(self) -> list[str]:
        return ["--config", str(self.config_path), "--log-format", "json", *self.args]

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            key: value
            for key, value in os.environ.items()
            if key not in {"VAULT_TOKEN", "VAULT_ADDR", "RENEWER_CRASHPOINT", TRACE_VARIABLE}
        }
        return {**base, "HOME": str(self.home), **self.extra_env(), **extra}


def temp_files(root: Path) -> list[Path]:
    """Every renewer temp file under *root* (``.{name}.renewer-tmp.{pid}.{hex}``)."""
    return sorted(path for path in _walk(root) if TEMP_INFIX in path.name)


def _walk(root: Path) -> Iterator[Path]:
    for directory, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]:
            yield Path(directory, name)


def assert_private(path: Path) -> None:
    """*path* is a regular file, mode 0600, not a symlink."""
    info = path.lstat()
    assert stat.S_ISREG(info.st_mode), f"{path} is not a regular file"
    assert stat.S_IMODE(info.st_mode) == 0o600, f"{path} has mode {stat.S_IMODE(info.st_mode):o}"


def assert_temps_private(root: Path) -> None:
    """A temp file a kill left behind is 0600 too: created so, never chmodded later."""
    for path in temp_files(root):
        if path.is_symlink():
            continue  # cert_dir's switch link: a symlink has no mode of its own
        assert_private(path)


def trace(protocol: Protocol, zygote: Zygote) -> tuple[list[str], float]:
    """Run the protocol once, normally, listing the crash points it passes."""
    record = protocol.home.parent / f"trace-{protocol.name}.txt"
    record.unlink(missing_ok=True)
    protocol.arm()
    outcome = zygote.run(protocol.argv(), env=protocol.env(**{TRACE_VARIABLE: str(record)}))
    leakguard.scan("traced child stderr", outcome.err)
    assert outcome.code == protocol.success_code, f"trace run of {protocol.name}: {outcome.err}"
    points = record.read_text().split() if record.exists() else []
    record.unlink(missing_ok=True)
    protocol.recover()
    return points, outcome.elapsed


def occurrences(points: Sequence[str]) -> list[str]:
    """Every step: ``point#n`` for the n-th time each point is passed."""
    seen: dict[str, int] = {}
    steps = []
    for point in points:
        seen[point] = seen.get(point, 0) + 1
        steps.append(f"{point}#{seen[point]}")
    return steps


def distinct(points: Sequence[str]) -> list[str]:
    """The first occurrence of each point, in order (``point#1``)."""
    return [f"{point}#1" for point in dict.fromkeys(points)]


def steps_to_kill(points: Sequence[str], *, short_sample: int | None, salt: str) -> list[str]:
    """Every occurrence of every point (long run); the distinct points, or a seeded sample
    of *short_sample* of them (short run: CI covers a different sample each time)."""
    from tests.reliability import budget

    if budget.LONG:
        return occurrences(points)
    steps = distinct(points)
    if short_sample is None or short_sample >= len(steps):
        return steps
    chosen = set(random.Random(f"{SEED}/{salt}").sample(steps, short_sample))
    return [step for step in steps if step in chosen]


def exercise(protocol: Protocol, zygote: Zygote, kill: Kill) -> str:
    """One kill and its recovery; returns the recovery's label."""
    protocol.kill = kill
    protocol.arm()
    env = protocol.env(RENEWER_CRASHPOINT=kill.point) if kill.point else protocol.env()
    outcome = zygote.run(
        protocol.argv(), env=env, kill_after=kill.delay, sabotage=protocol.sabotage
    )
    leakguard.scan("killed child stdout", outcome.out)
    leakguard.scan("killed child stderr", outcome.err)
    if kill.point:
        assert outcome.killed, (
            f"never reached {kill.point}: exit {outcome.code}\n{outcome.err[-2000:]}"
        )
    else:
        assert outcome.killed or outcome.code == protocol.success_code, outcome.err[-2000:]
    assert "Traceback" not in outcome.err
    protocol.check_killed(outcome)
    assert_temps_private(protocol.home)
    label = protocol.recover()
    left = temp_files(protocol.home)
    assert not left, f"temp files left after the recovery run: {left}"
    return label


def kill_loop(
    protocol: Protocol, zygote: Zygote, kills: Sequence[Kill], *, case: str
) -> dict[str, int]:
    """Every kill in turn; failures name the protocol, the kill and the seed."""
    labels: dict[str, int] = {}
    for index, kill in enumerate(kills):
        try:
            label = exercise(protocol, zygote, kill)
        except AssertionError as exc:
            raise AssertionError(
                f"{protocol.name}: kill {index + 1}/{len(kills)} ({kill.describe()}), "
                f"seed {SEED}: {exc}"
            ) from None
        labels[label] = labels.get(label, 0) + 1
        if kill.point:
            tally.record(f"crash-point/{protocol.name}/{kill.point}", outcome=label)
    if not kills or not kills[0].point:
        for label, count in labels.items():
            tally.record(case, tries=count, outcome=label, note=f"seed {SEED}")
    return labels


def random_kills(count: int, duration: float, *, salt: str) -> list[Kill]:
    """*count* delays spread over the traced duration (a little past it, too)."""
    rng = random.Random(f"{SEED}/{salt}")
    return [Kill(delay=rng.uniform(0.0, duration * 1.1)) for _ in range(count)]
