"""Every `sh` block of runbooks/rotation.md, run in the situation its comment names.

A block is preceded by ``<!-- scenario: NAME -->``. renewer commands run
through the real CLI (in this process, JSON logs, leak-scanned); ``cp`` and
``mv`` run as real processes with ``~`` being the throwaway home. Each
command must succeed (exit 0), as the runbook promises.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from renewer.errors import (
    RotationBlocked,
    RotationFailed,
    RotationHookFailed,
    RotationStateInvalid,
)
from renewer.rotation.store import RotationStore
from tests import leakguard
from tests.integration.conftest import World

RUNBOOK = Path(__file__).resolve().parents[2] / "runbooks" / "rotation.md"
BLOCK = re.compile(r"<!-- scenario: ([\w-]+) -->\n```sh\n(.*?)```", re.DOTALL)
ROTATION = """\
rotations:
  - name: devvm-token
    type: vault-token
    token: devvm
    grace: 24h
"""


def blocks() -> list[tuple[str, list[str]]]:
    return [
        (scenario, [line for line in body.splitlines() if line.strip()])
        for scenario, body in BLOCK.findall(RUNBOOK.read_text())
    ]


def prepare(world: World, scenario: str) -> None:
    world.extra = ROTATION
    world.write(world.mint_ours())
    if scenario == "in-grace":
        result = world.cli("rotate", "devvm-token", "--now")
        assert result.code == 0, result.err
        leakguard.remember(world.read())
    elif scenario == "state-invalid":
        store = RotationStore(world.state)
        store.directory.mkdir(parents=True)
        store.path("devvm-token").write_text('{"version": 1, "phase": "half-rotated"}')
    else:
        assert scenario == "rotation", f"unknown scenario {scenario}"


def run_line(world: World, line: str) -> None:
    words = shlex.split(line)
    if words[0] == "renewer":
        result = world.cli(*words[1:])
        assert result.code == 0, f"{line}: exit {result.code}\n{result.err}"
        assert "internal error" not in result.err
        return
    assert words[0] in {"cp", "mv"}, f"the runbook runs {words[0]}; teach this test about it"
    home = str(world.home)
    expanded = [word.replace("~", home, 1) if word.startswith("~") else word for word in words]
    subprocess.run(expanded, check=True)


@pytest.mark.parametrize(
    ("scenario", "lines"),
    blocks(),
    ids=[f"{index}-{scenario}" for index, (scenario, _) in enumerate(blocks())],
)
def test_runbook_block(world: World, scenario: str, lines: list[str]) -> None:
    """Each command of the block succeeds in its scenario."""
    prepare(world, scenario)
    for line in lines:
        run_line(world, line)


def test_every_rotation_error_anchor_is_a_heading() -> None:
    """`see: runbooks/rotation.md#<anchor>` always lands on a section."""
    headings = {
        line[3:].strip() for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")
    }
    for error in (RotationFailed, RotationHookFailed, RotationBlocked, RotationStateInvalid):
        assert error.runbook == "rotation.md"
        assert error.reference in headings, error.reference


def test_the_runbook_has_blocks_for_each_situation() -> None:
    """Health, by hand, stuck, rollback (two ways), failure, damaged state."""
    assert [scenario for scenario, _ in blocks()] == [
        "rotation",
        "rotation",
        "in-grace",
        "in-grace",
        "in-grace",
        "rotation",
        "rotation",
        "state-invalid",
    ]
