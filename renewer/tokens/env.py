"""What processing token sinks needs, built once per run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from renewer.config import Config, TokenSink
from renewer.tokens.ledger import Ledger
from renewer.tokens.results import recovery_command
from renewer.vault import VaultConnection


@dataclass
class TokenEnv:
    """What processing token sinks needs, built once per run."""

    config: Config
    connection: VaultConnection
    ledger: Ledger
    owner: str  # the renewer_machine mark of this installation (renewer.tokens.owner)
    dry_run: bool = False
    wall_clock: Callable[[], float] = time.time
    time_left: Callable[[], float] = lambda: float("inf")
    notes: list[str] = field(default_factory=list)
    vault_token_set: bool = False  # $VAULT_TOKEN is set: `renewer mint` would act with it

    def recovery(self, sink: TokenSink) -> str:
        """The sink's recovery command (login && mint), right for this environment."""
        return recovery_command(sink, home=self.config.home, vault_token_set=self.vault_token_set)
