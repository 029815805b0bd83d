"""Every ``sh systemd`` block of runbooks/*.md, as written, under the real user manager.

The ordinary runbook tests (tests/runbooks/) have no ``systemd --user``; the
blocks that talk to it are fenced ``sh systemd`` and run here instead, as the
devvm user, in the home install.sh set up (conftest.py), with the session's
Vault peer. Each block runs with ``sh -e``; the blocks of one scenario share
one shell session (tests/runbooks/shell.py) and run in document order.

A scenario is a generator: the code before its first ``yield`` puts the
devvm into the situation the runbook section is written for, the code
between yields is what a person does between two blocks (the fix the prose
describes), and the code after the last yield checks that the blocks did
what the runbook says they do. It yields once per block, so a block added to
the runbook without its scenario being taught about it fails here.

A block passes when it exits as its ``<!-- expect: exit N -->`` says (0 by
default), prints no secret, and does not answer "nothing found"
(``-- No entries --``, ``0 timers listed.``): a journal or timer command
that shows nothing is one whose unit name, field or situation is wrong.
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections import defaultdict
from collections.abc import Callable, Generator
from pathlib import Path

import pytest

from tests import leakguard
from tests.runbooks.extract import Block, blocks
from tests.runbooks.shell import ShellSession
from tests.usermanager.devvm import Devvm, wait_for

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = sorted((ROOT / "runbooks").glob("*.md"))
NOTHING_FOUND = ("-- No entries --", "0 timers listed.")
# The runbook's own example values for the variables it tells the reader to set
# (runbooks/credentials.md: NAME=notion-prod, RECIPE=notion).
VARIABLES = {"NAME": "notion-prod", "RECIPE": "notion"}

Scenario = Callable[[Devvm], Generator[None, None, None]]


def systemd_blocks() -> list[Block]:
    return [
        block
        for path in RUNBOOKS
        for block in blocks(path)
        if block.language == "sh" and block.harness == "systemd"
    ]


def grouped() -> dict[tuple[str, str], list[Block]]:
    groups: dict[tuple[str, str], list[Block]] = defaultdict(list)
    for block in systemd_blocks():
        groups[(block.path.name, block.scenario or "")].append(block)
    return dict(groups)


def free_closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def notify_finished(devvm: Devvm) -> bool:
    shown = devvm.show("renewer-notify@renewer.service", "ActiveState", "Result")
    return shown.get("ActiveState") in {"inactive", "failed"} and bool(shown.get("Result"))


def retry_timers(devvm: Devvm) -> list[str]:
    return [unit for unit in devvm.timers() if unit.startswith("renewer-retry@")]


# --- the scenarios -----------------------------------------------------------------


def healthy(devvm: Devvm) -> Generator[None, None, None]:
    """The timer is enabled and a run renewed our token."""
    assert devvm.start().returncode == 0, devvm.tail()
    yield


def timer_disabled(devvm: Devvm) -> Generator[None, None, None]:
    """Someone disabled and stopped the timer; `status` says NOT ENABLED."""
    devvm.systemctl("disable", "--now", "renewer.timer")
    assert devvm.systemctl("is-enabled", "renewer.timer").stdout.strip() == "disabled"
    yield
    assert devvm.systemctl("is-enabled", "renewer.timer").stdout.strip() == "enabled"
    assert devvm.systemctl("is-active", "renewer.timer").stdout.strip() == "active"


def drift(devvm: Devvm) -> Generator[None, None, None]:
    """A read-only token wrote over ours; the service failed and the handler reported it."""
    devvm.write_token(devvm.weak_clobber())
    assert devvm.start().returncode != 0
    wait_for("the handler to finish", lambda: notify_finished(devvm), context=devvm.tail)
    yield  # journalctl -u renewer-notify@renewer.service
    yield  # the drift and the failures, by journal field


def retry_armed(devvm: Devvm) -> Generator[None, None, None]:
    """Vault was down: the run exited 75 and a retry is 5-10 minutes away."""
    devvm.configure(addr=f"http://127.0.0.1:{free_closed_port()}", deadline="2s")
    assert devvm.start().returncode != 0
    wait_for("the retry timer", lambda: retry_timers(devvm) or None, context=devvm.tail)
    wait_for("the handler to finish", lambda: notify_finished(devvm), context=devvm.tail)
    yield  # systemctl --user list-timers 'renewer-retry@*'
    devvm.configure()  # the cause is gone: Vault answers again
    yield  # systemctl --user start renewer.service
    assert retry_timers(devvm) == []  # the manual start's success cancelled the retry
    assert devvm.state()["last_run"]["exit_code"] == 0


def cannot_start(devvm: Devvm) -> Generator[None, None, None]:
    """A drop-in names a missing ReadWritePaths= directory: 226/NAMESPACE, reported."""
    missing = f"/srv/renewer-missing-{devvm.manager.uid}"
    drop_in = devvm.manager.write(
        ".config/systemd/user/renewer.service.d/sink.conf",
        f"[Service]\nReadWritePaths={missing}\n",
        mode=0o644,
    )
    try:
        devvm.systemctl("daemon-reload")
        assert devvm.start().returncode != 0
        assert devvm.show("renewer.service", "ExecMainStatus")["ExecMainStatus"] == "226"
        wait_for("the handler to finish", lambda: notify_finished(devvm), context=devvm.tail)
        yield  # systemctl --user status renewer.service (exit 3)
        yield  # journalctl --user -u renewer.service
        # The fix the runbook gives: "write - before the path so a missing one is skipped".
        drop_in.write_text(f"[Service]\nReadWritePaths=-{missing}\n")
        yield  # daemon-reload, start
        shown = devvm.show("renewer.service", "Result", "ActiveState")
        assert (shown["Result"], shown["ActiveState"]) == ("success", "inactive")
    finally:
        drop_in.unlink()
        drop_in.parent.rmdir()
        devvm.systemctl("daemon-reload")


def hook_by_hand(devvm: Devvm) -> Generator[None, None, None]:
    """The credential's hook restarts a user unit that reads the token; it is running."""
    unit = devvm.manager.write(
        ".config/systemd/user/notion-sync.service",
        "[Service]\nExecStart=/bin/sleep infinity\n",
        mode=0o644,
    )
    try:
        devvm.systemctl("daemon-reload")
        assert devvm.systemctl("start", "notion-sync.service").returncode == 0
        before = devvm.show("notion-sync.service", "InvocationID")["InvocationID"]
        yield  # RENEWER_CREDENTIAL=… systemctl --user try-restart notion-sync.service
        after = devvm.show("notion-sync.service", "InvocationID", "ActiveState")
        assert after["ActiveState"] == "active"
        assert after["InvocationID"] != before  # restarted, not merely left running
    finally:
        devvm.systemctl("stop", "notion-sync.service")
        unit.unlink()
        devvm.systemctl("daemon-reload")


SCENARIOS: dict[str, Scenario] = {
    "healthy": healthy,
    "timer-disabled": timer_disabled,
    "drift": drift,
    "retry-armed": retry_armed,
    "cannot-start": cannot_start,
    "hook-by-hand": hook_by_hand,
}
GROUPS = grouped()


class TestShape:
    def test_the_runbooks_have_systemd_blocks(self) -> None:
        """The token runbook's timer, journal and recovery commands, at least."""
        assert len(systemd_blocks()) >= 9

    def test_every_systemd_block_names_a_scenario_of_this_module(self) -> None:
        problems = [
            f"{block.where}: scenario {block.scenario!r} is not one of {sorted(SCENARIOS)}"
            for block in systemd_blocks()
            if block.scenario not in SCENARIOS
        ]
        problems += [
            f"{block.where}: {error}" for block in systemd_blocks() for error in block.marker_errors
        ]
        assert problems == []


def check(block: Block, completed: subprocess.CompletedProcess[str]) -> None:
    stdout, stderr, code = completed.stdout, completed.stderr, completed.returncode
    leakguard.scan(f"{block.where} stdout", stdout)
    leakguard.scan(f"{block.where} stderr", stderr)
    report = f"--- block\n{block.text}--- stdout\n{stdout[-3000:]}--- stderr\n{stderr[-3000:]}"
    assert code == block.expect_exit, (
        f"{block.where} exited {code}, expected {block.expect_exit}\n{report}"
    )
    found_nothing = [marker for marker in NOTHING_FOUND if marker in stdout]
    assert found_nothing == [], f"{block.where} found nothing\n{report}"


@pytest.mark.parametrize(
    "key", sorted(GROUPS), ids=[f"{name}::{scenario}" for name, scenario in sorted(GROUPS)]
)
def test_systemd_blocks_run_in_their_scenario(key: tuple[str, str], live: Devvm) -> None:
    """Put the devvm in the scenario, then run its blocks as the user, top to bottom."""
    _name, scenario_name = key
    group = GROUPS[key]
    if scenario_name not in SCENARIOS:
        pytest.fail(f"no scenario {scenario_name!r} for {[b.where for b in group]}")
    manager = live.manager
    variables = f"{manager.runtime_dir}/runbook-{re.sub(r'[^a-z-]', '', scenario_name)}.vars"
    session = ShellSession(
        lambda argv: manager.user(*argv, env=VARIABLES, timeout=180), Path(variables)
    )
    scenario = SCENARIOS[scenario_name](live)
    try:
        for block in group:
            try:
                next(scenario)
            except StopIteration:
                pytest.fail(f"scenario {scenario_name!r} prepares fewer blocks than {block.where}")
            check(block, session.run(block.text))
        with pytest.raises(StopIteration):
            next(scenario)  # the scenario's checks after the last block
    finally:
        scenario.close()
        manager.root("rm", "-f", variables)
