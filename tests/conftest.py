"""Suite-wide fixtures and plugins.

Peers live in tests/vaultpeer.py (the dev server or a real Vault) and
tests/peers/ (OAuth2 authorization server, service APIs); the secret-leak
guard lives in tests/leakguard.py; the reliability tally (issue #8) in
tests/reliability/tally.py.

Tests marked ``slow`` run only with ``RENEWER_LONG_TESTS=1``. Tests that use
the session's Vault peer are marked ``vault``, so ``pytest -m vault`` runs
exactly those (``tests/check.sh`` does, on OpenBao).
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from tests.reliability import budget

# No timed assertions in tests (speed is measured in bench/): hypothesis's
# per-example deadline (200 ms by default) is one, and a property that talks to
# a real server failed it on a loaded machine. Every property runs without it.
settings.register_profile("renewer", deadline=None)
settings.load_profile("renewer")

pytest_plugins: list[str] = [
    "tests.leakguard",
    "tests.vaultpeer",
    "tests.peers.fixtures",
    "tests.reliability.tally",
]


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that talk to the Vault peer; skip ``slow`` ones unless asked for."""
    for item in items:
        if "vault_peer" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.vault)
    if budget.LONG:  # read from RENEWER_LONG_TESTS before the tally plugin removed it
        return
    skip = pytest.mark.skip(reason="long-running; set RENEWER_LONG_TESTS=1 to run it")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
