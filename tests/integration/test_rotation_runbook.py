"""Every `sh` block of runbooks/rotation.md, run in the situation its comment names.

A block is preceded by ``<!-- scenario: NAME -->``. renewer commands run
through the real CLI (in this process, JSON logs, leak-scanned); ``cp`` and
``mv`` run as real processes with ``~`` being the throwaway home. Each
command must succeed (exit 0), as the runbook promises.

The ``lost-mint`` blocks (recovery-unchecked: find and revoke a token a killed
rotation minted) and the ``approle-leftover`` ones (rotation-state-invalid:
destroy the secret-ids a lost AppRole cycle left) are shell, with ``vault``
the real ``bao`` CLI (as in tests/runbooks/), run as written in one shell
session on a server of their own: they look up every accessor, and the
session's server holds every other test's tokens.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from renewer.core.owner import MACHINE_KEY, ROTATION_KEY, SINK_KEY
from renewer.errors import (
    RotationBlocked,
    RotationFailed,
    RotationHookFailed,
    RotationStateInvalid,
)
from renewer.rotation.store import RotationStore
from tests import leakguard
from tests.integration.conftest import ADMIN, POLICIES, World, finish
from tests.integration.rotating import TOKEN_ROTATION
from tests.integration.test_rotation import APPROLE_ROTATION, approle_setup
from tests.runbooks.scenarios import prepare_shell
from tests.runbooks.shell import ShellSession, local_runner
from tests.vaultpeer import PEERS, started_peer

RUNBOOK = Path(__file__).resolve().parents[2] / "runbooks" / "rotation.md"
LOST_MINT = "lost-mint"
APPROLE_LEFTOVER = "approle-leftover"
OTHER_MACHINE = "0123456789abcdef"
BLOCK = re.compile(r"<!-- scenario: ([\w-]+) -->\n```sh\n(.*?)```", re.DOTALL)
ROTATION = """\
rotations:
  - name: devvm-token
    type: vault-token
    token: devvm
    grace: 24h
"""


def blocks() -> list[tuple[str, list[str]]]:
    """The blocks of renewer, cp and mv lines, each on its own."""
    return [
        (scenario, [line for line in body.splitlines() if line.strip()])
        for scenario, body in BLOCK.findall(RUNBOOK.read_text())
        if scenario not in {LOST_MINT, APPROLE_LEFTOVER}
    ]


def shell_blocks(scenario: str) -> list[str]:
    return [body for found, body in BLOCK.findall(RUNBOOK.read_text()) if found == scenario]


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
    """Health, by hand, stuck, rollback (two ways), failure, damaged state; the lost
    mint's find-and-revoke, an AppRole cycle's leftover secret-id (the tests below)."""
    assert len(shell_blocks(LOST_MINT)) == 2
    assert len(shell_blocks(APPROLE_LEFTOVER)) == 2
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


@pytest.fixture
def own_server(world: World) -> Iterator[World]:
    """The world on a fresh server of the session's kind, policies written."""
    with started_peer(world.vault.kind if world.vault.kind in PEERS else "devserver") as peer:
        for name, text in POLICIES.items():
            peer.request("PUT", f"sys/policies/acl/{name}", json={"policy": text})
        world.vault = peer
        yield world


def meta_of(world: World, accessor: str) -> dict[str, str] | None:
    response = world.vault.request(
        "POST", "auth/token/lookup-accessor", json={"accessor": accessor}
    )
    return response.json()["data"].get("meta") or {} if response.status_code == 200 else None


def alive(world: World, token: str) -> dict[str, Any]:
    found = world.lookup(token)
    assert found is not None, "a token the rotation must not have revoked is gone"
    return found


def test_a_lost_mint_is_found_and_revoked_as_the_runbook_says(
    own_server: World, tmp_path: Path
) -> None:
    """recovery-unchecked, end to end: a rotation killed after Vault minted green, under
    sweep: never; the next rotate leaves the note. The runbook's blocks then revoke that
    token and nothing else: not the file's, not the old one in its grace, not a hand-made
    token with our display name, not another machine's token of the same rotation."""
    world = own_server
    world.sweep = "never"
    world.extra = TOKEN_ROTATION.format(schedule="# by hand only", grace="1h", extra="")
    world.write(world.admin_clobber())  # an OIDC login wrote over ours; the run heals it:
    assert world.cli("run").code == 0  # the file then holds a token with this machine's marks
    blue = world.read()
    leakguard.remember(blue)
    crashed = finish(
        world.process(
            "rotate", "devvm-token", "--now", env={"RENEWER_CRASHPOINT": "rotation.token.minted"}
        )
    )
    assert crashed.code == -9, crashed.err
    (lost,) = [a for a in world.ours_alive() if (meta_of(world, a) or {}).get(ROTATION_KEY)]
    machine = (meta_of(world, lost) or {})[MACHINE_KEY]
    twin = world.create(
        policies=[ADMIN], period=world.period, display_name=world.display, no_parent=True
    )
    theirs = world.create(
        policies=[ADMIN],
        period=world.period,
        display_name=world.display,
        no_parent=True,
        meta={ROTATION_KEY: "devvm-token", MACHINE_KEY: OTHER_MACHINE, SINK_KEY: "devvm"},
    )
    resumed = world.cli("rotate", "devvm-token", "--now")
    assert resumed.code == 0, resumed.err
    assert "renewer_rotation=devvm-token" in resumed.event("rotation.note")["summary"]
    green = world.read()
    leakguard.remember(green)
    keep = {alive(world, token)["accessor"] for token in (blue, green, twin, theirs)}
    assert machine != OTHER_MACHINE and lost not in keep
    assert ROTATION_KEY in alive(world, green)["meta"], "the file's token is the rotation's"

    env = prepare_shell(world, tmp_path / "bin")
    session = ShellSession(local_runner(env, world.home), tmp_path / "runbook.vars")
    for block in shell_blocks(LOST_MINT):
        completed = session.run(block)
        leakguard.scan("runbook stdout", completed.stdout)
        leakguard.scan("runbook stderr", completed.stderr)
        assert completed.returncode == 0, f"{block}\n{completed.stdout}\n{completed.stderr}"

    assert meta_of(world, lost) is None, "the lost token is still alive"
    assert set(world.ours_alive()) == keep


def test_the_lost_mint_search_stops_when_the_file_s_token_has_no_mark(
    own_server: World, tmp_path: Path
) -> None:
    """A token put in the file by hand carries no machine mark: the search says so and
    stops, rather than finding nothing and looking like there is nothing to clean up; the
    fix it names works."""
    world = own_server
    hand_made = world.create(
        policies=[ADMIN], period=world.period, display_name=world.display, no_parent=True
    )
    world.write(hand_made)
    before = set(world.ours_alive())

    env = prepare_shell(world, tmp_path / "bin")
    session = ShellSession(local_runner(env, world.home), tmp_path / "runbook.vars")
    completed = session.run(shell_blocks(LOST_MINT)[0])

    assert completed.returncode != 0, completed.stdout
    assert "renewer mint devvm puts a marked one there; then start again" in completed.stderr
    assert set(world.ours_alive()) == before

    minted = world.cli("mint", "devvm")  # the fix the message names
    assert minted.code == 0, minted.err
    leakguard.remember(world.read())
    again = session.run(shell_blocks(LOST_MINT)[0])
    assert again.returncode == 0, again.stderr
    assert "this machine's mark: " in again.stdout
    assert "(none: no token of this rotation from this machine is unrecorded)" in again.stdout


def test_an_approle_cycle_s_leftover_is_destroyed_as_the_runbook_says(
    own_server: World, tmp_path: Path
) -> None:
    """rotation-state-invalid, AppRole: a cycle killed after Vault generated green, then
    its state file lost. The runbook's blocks destroy green and nothing else: not the
    secret-id in the file, not one made by hand, not another host's of the same rotation."""
    world = own_server
    role = approle_setup(world)
    secret_file = world.home / "ci" / "secret-id"
    world.extra = APPROLE_ROTATION.format(role=role, home=world.home)
    assert world.cli("rotate", "ci", "--now").code == 0
    leakguard.remember(secret_file.read_text())
    (blue,) = secret_ids(world, role)
    crashed = finish(
        world.process("rotate", "ci", "--now", env={"RENEWER_CRASHPOINT": "rotation.issue.after"})
    )
    assert crashed.code == -9, crashed.err
    (green,) = set(secret_ids(world, role)) - {blue}
    RotationStore(world.state).path("ci").write_text('{"version": 1, "phase": "half-rotated"}')
    by_hand = generate(world, role, {})
    other_host = generate(
        world,
        role,
        {"created-by": "renewer", "rotation": "ci", "file": str(secret_file), "host": "devvm-2"},
    )

    env = prepare_shell(world, tmp_path / "bin")
    env.update(ROTATION="ci", ROLE=role, SECRET_ID_FILE=str(secret_file))
    session = ShellSession(local_runner(env, world.home), tmp_path / "runbook.vars")
    for block in shell_blocks(APPROLE_LEFTOVER):
        completed = session.run(block)
        leakguard.scan("runbook stdout", completed.stdout)
        leakguard.scan("runbook stderr", completed.stderr)
        assert completed.returncode == 0, f"{block}\n{completed.stdout}\n{completed.stderr}"

    assert green not in secret_ids(world, role), "the lost cycle's secret-id is still there"
    assert sorted(secret_ids(world, role)) == sorted([blue, by_hand, other_host])


def secret_ids(world: World, role: str) -> list[str]:
    """The role's secret-id accessors."""
    response = world.vault.request("LIST", f"auth/approle/role/{role}/secret-id")
    return list(response.json()["data"]["keys"]) if response.status_code == 200 else []


def generate(world: World, role: str, metadata: dict[str, str]) -> str:
    """A secret-id made with root (by hand, or by renewer on another host); its accessor."""
    response = world.vault.request(
        "POST", f"auth/approle/role/{role}/secret-id", json={"metadata": json.dumps(metadata)}
    )
    assert response.status_code == 200, response.text
    leakguard.remember(response.json()["data"]["secret_id"])
    return str(response.json()["data"]["secret_id_accessor"])
