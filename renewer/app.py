"""The state one CLI invocation shares between its commands (click's ``ctx.obj``).

Nothing here does I/O at construction: the configuration is read the first
time a command asks for it, so ``renewer --help`` and ``renewer devserver``
work without a config file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from renewer.config import Config


@dataclass
class AppContext:
    """Global options plus the lazily loaded configuration."""

    config_path: Path | None = None
    log_format: str | None = None
    verbosity: int = 0
    environ: dict[str, str] | None = None  # None: the process environment
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The validated configuration; raises ``ConfigError`` (exit 78) when unusable."""
        if self._config is None:
            from renewer.config import load_config

            self._config = load_config(self.config_path, environ=self.environ)
        return self._config

    def setup_logging(self, **overrides: Any) -> None:
        """Configure structlog for this process (idempotent)."""
        from renewer.logging import configure

        configure(self.log_format, verbosity=self.verbosity, **overrides)


pass_app = click.make_pass_decorator(AppContext, ensure=True)
