"""The real user manager for tests/usermanager/: started once, or skipped with the reason.

It needs root, ``unshare --mount`` and a cgroup it may delegate (our CI: a
fresh Debian VM as root). Where that is refused the tests skip and pytest
prints why (``-ra``); ``RENEWER_REQUIRE_USER_MANAGER=1`` turns the skip into
a failure, for a CI that must not lose these tests silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.conftest import policies
from tests.usermanager.manager import UserManager, why_not

__all__ = ["policies", "user_manager"]


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
