"""What processing token sinks needs, built once per run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from renewer.config import Config
from renewer.tokens.ledger import Ledger
from renewer.vault import VaultConnection


@dataclass
class TokenEnv:
    """What processing token sinks needs, built once per run."""

    config: Config
    connection: VaultConnection
    ledger: Ledger
    dry_run: bool = False
    wall_clock: Callable[[], float] = time.time
    time_left: Callable[[], float] = lambda: float("inf")
    notes: list[str] = field(default_factory=list)
