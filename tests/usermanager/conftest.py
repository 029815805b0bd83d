"""The real user manager for tests/usermanager/: started once, or skipped with the reason.

It needs root, ``unshare --mount`` and a cgroup it may delegate (our CI: a
fresh Debian VM as root). Where that is refused the tests skip and pytest
prints why (``-ra``); ``RENEWER_REQUIRE_USER_MANAGER=1`` turns the skip into
a failure, for a CI that must not lose these tests silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import policies
from tests.ops.stand_ins import WebhookReceiver, webhook_receiver
from tests.usermanager.devvm import Devvm
from tests.usermanager.manager import UserManager, why_not
from tests.vaultpeer import VaultPeer

__all__ = ["policies", "user_manager"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Uninstalling ends the installed devvm every module here shares: it runs last.

    pytest hands this hook the whole session's items; only this directory's move.
    """
    here = Path(__file__).parent
    last = [
        item
        for item in items
        if item.name.startswith("test_uninstall") and item.path.parent == here
    ]
    items[:] = [item for item in items if item not in last] + last


@pytest.fixture(scope="session")
def user_manager() -> Iterator[UserManager]:
    reason = why_not()
    if reason is not None:
        message = f"no real systemd user manager here: {reason}"
        if os.environ.get("RENEWER_REQUIRE_USER_MANAGER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    manager = UserManager()
    try:
        manager.start()
        yield manager
    finally:
        manager.stop()


@dataclass
class Installed:
    """What one run of install.sh printed, and what systemd said right after."""

    code: int
    out: str
    enabled: str
    source_before: set[str]
    source_after: set[str]


@pytest.fixture(scope="session")
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as received:
        yield received


@pytest.fixture(scope="session")
def devvm(
    user_manager: UserManager, vault_peer: VaultPeer, policies: None, receiver: WebhookReceiver
) -> Devvm:
    machine = Devvm(manager=user_manager, vault=vault_peer, webhook=receiver.url())
    machine.clone()
    return machine


def install(devvm: Devvm, **env: str) -> Installed:
    before = devvm.source_files()
    completed = devvm.install(**env)
    enabled = devvm.systemctl("is-enabled", "renewer.timer").stdout.strip()
    return Installed(
        completed.returncode,
        completed.stdout + completed.stderr,
        enabled,
        before,
        devvm.source_files(),
    )


@pytest.fixture(scope="session")
def first(devvm: Devvm) -> Installed:
    """A first install: no config yet, so the commented example (no tokens) is written."""
    return install(devvm, VAULT_ADDR=devvm.vault.addr)


@pytest.fixture(scope="session")
def second(devvm: Devvm, first: Installed) -> Installed:
    """The user filled in the config and has our token: install again."""
    devvm.configure()
    devvm.write_token(devvm.ours())
    return install(devvm)


@pytest.fixture
def live(devvm: Devvm, second: Installed) -> Devvm:
    assert second.code == 0, second.out
    devvm.reset()
    return devvm
