"""Fixtures for the operability tests: the integration tests' throwaway world."""

from __future__ import annotations

from tests.integration.conftest import policies, world

__all__ = ["policies", "world"]
