"""An embedded, in-memory, Vault-API-compatible development and test server.

It is not a Vault: it reproduces the parts of Vault's HTTP API the renewer
depends on (token store, ACL policies, KV v2, AppRole, error shapes), checked
by ``tests/devserver`` against the same tests a real Vault passes. See
``docs/devserver.md``.
"""

from __future__ import annotations

from renewer.devserver.clock import Clock
from renewer.devserver.controls import FaultKind
from renewer.devserver.server import DevServer

__all__ = ["Clock", "DevServer", "FaultKind"]
