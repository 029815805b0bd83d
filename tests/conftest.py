"""Suite-wide fixtures and plugins.

Peers live in tests/vaultpeer.py (the dev server or a real Vault) and
tests/peers/ (OAuth2 authorization server, service APIs); the secret-leak
guard lives in tests/leakguard.py.
"""

from __future__ import annotations

pytest_plugins: list[str] = ["tests.leakguard", "tests.vaultpeer", "tests.peers.fixtures"]
