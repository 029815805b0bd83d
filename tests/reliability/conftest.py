"""Fixtures of the reliability suite (issue #8).

The integration suite's ``world`` (a throwaway home with a token sink and
its config) and the credential worlds built on it are reused here; the
session's :class:`~tests.reliability.zygote.Zygote` forks the renewer
processes the crash harness kills.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from tests.integration.conftest import policies, world
from tests.integration.test_run_service_credentials import aws_world, pki_world
from tests.reliability.zygote import Zygote

__all__ = ["aws_world", "pki_world", "policies", "world"]


HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test here is part of the reliability run (``-m "floor or reliability"``)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def zygote() -> Iterator[Zygote]:
    """One pre-imported renewer that forks the children the harness kills."""
    forker = Zygote()
    try:
        yield forker
    finally:
        forker.close()


@pytest.fixture(autouse=True)
def _structlog_released() -> Iterator[None]:
    """Runs here point structlog at this test's captured stderr; leave no dangling stream."""
    yield
    structlog.reset_defaults()
