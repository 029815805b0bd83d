"""Fixtures of the hostile-input suite (issue 20).

The integration suite's ``world`` (a throwaway home, a token sink, its config)
is reused; runs here point structlog at a test's captured stderr, so it is
reset after each test (as in tests/reliability).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from tests.integration.conftest import policies, world

__all__ = ["policies", "world"]


@pytest.fixture(autouse=True)
def _structlog_released() -> Iterator[None]:
    """Leave no structlog logger pointing at a closed captured stream."""
    yield
    structlog.reset_defaults()
