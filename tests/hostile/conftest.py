"""The integration suite's ``world`` (a throwaway home, a token sink, its config) reused here."""

from __future__ import annotations

from tests.integration.conftest import policies, world

__all__ = ["policies", "world"]
