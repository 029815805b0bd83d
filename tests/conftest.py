"""Suite-wide fixtures and plugins.

Peers (the dev server or a real Vault) live in tests/vaultpeer.py; the
secret-leak guard lives in tests/leakguard.py.
"""

from __future__ import annotations

pytest_plugins: list[str] = ["tests.leakguard", "tests.peers.fixtures"]
