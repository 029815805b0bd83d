"""A login that writes the sink's file while a heal is minting is kept, never dropped.

Real peer, real CLI in this process. The "login" is a real token created on
the peer and written to the file at the moment between the mint and the
write (the heal's ``_accept`` step, wrapped to play the other actor); a plain
``vault login`` writes the file exactly so, without any lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from renewer.tokens import heal as heal_module
from tests import leakguard
from tests.integration.conftest import ADMIN, World
from tests.integration.test_token_helper import kept_login


def login_during_the_mint(world: World, monkeypatch: pytest.MonkeyPatch, login: str) -> None:
    """Write *login* to the file after Vault minted and before renewer writes."""
    accept: Callable[..., Any] = heal_module._accept

    def accept_then_login(*args: Any, **kwargs: Any) -> Any:
        info = accept(*args, **kwargs)
        world.write(login)
        return info

    monkeypatch.setattr(heal_module, "_accept", accept_then_login)


def a_fresh_login(world: World) -> str:
    return world.create(policies=[ADMIN], ttl="168h", display_name="oidc-newer", no_parent=True)


def test_a_login_written_during_a_heal_is_kept_and_said(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file gets our periodic token as before; the newer login is kept apart, the line
    says where and how to use it, and `token-helper login-token` gives it back."""
    world.write(world.admin_clobber())
    login = a_fresh_login(world)
    login_during_the_mint(world, monkeypatch, login)

    ran = world.cli("run")

    assert ran.code == 0, ran.err
    healed = ran.event("token.healed")
    assert "was written while the heal ran (a login?)" in healed["summary"]
    assert "renewer token-helper login-token" in healed["summary"]
    in_file = world.read()
    leakguard.remember(in_file)
    assert in_file != login
    assert (world.lookup(in_file) or {}).get("display_name") == world.ours
    assert world.lookup(login) is not None, "the newer login must stay alive"
    assert kept_login(world) == login  # stdout is the secret, by design


def test_an_unchanged_file_keeps_nothing(world: World) -> None:
    """The ordinary heal: no warning, nothing set aside."""
    world.write(world.admin_clobber())

    ran = world.cli("run")

    assert ran.code == 0, ran.err
    assert "written while the heal ran" not in ran.event("token.healed")["summary"]
    assert not (world.home / ".local" / "share" / "renewer" / "kept").exists()


def test_a_login_that_cannot_be_kept_stays_in_the_file(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nowhere to keep it (the kept directory cannot be made): the file is not replaced,
    the minted token is revoked, and the run fails saying so."""
    world.write(world.admin_clobber())
    login = a_fresh_login(world)
    login_during_the_mint(world, monkeypatch, login)
    data = world.home / ".local" / "share" / "renewer"
    data.mkdir(parents=True)
    (data / "kept").write_text("not a directory\n")
    before = set(world.ours_alive())

    ran = world.cli("run")

    assert ran.code == 1, ran.err
    summary = ran.event("token.file_invalid")["summary"]
    assert "was written while the heal ran (a login?) and that token could not be kept" in summary
    assert "the one minted for devvm: it was revoked" in summary
    assert "fix the permissions of" in summary  # the hint: where it could not be kept
    assert world.read() == login
    assert set(world.ours_alive()) == before, "the minted token must have been revoked"
