"""A World with a rotations: section and a wall clock the test chooses (shared by the
rotation integration tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from renewer.core.outcome import ItemResult
from renewer.logging import configure
from renewer.rotation.runner import run_rotations
from renewer.run import Runtime, run_once, token_env
from tests.integration.conftest import CliResult, World

HOUR = 3600
DAY = 86400

TOKEN_ROTATION = """\
rotations:
  - name: devvm-token
    type: vault-token
    token: devvm
    {schedule}
    grace: {grace}
{extra}"""


@dataclass
class Rotating:
    """A World whose config also has a rotations: section, and a wall clock we choose."""

    world: World

    @property
    def rotations(self) -> str:
        return self.world.extra

    @rotations.setter
    def rotations(self, text: str) -> None:
        self.world.extra = text

    def token_rotation(
        self, *, schedule: str = "", grace: str = "24h", extra: str = ""
    ) -> Rotating:
        self.rotations = TOKEN_ROTATION.format(
            schedule=schedule or "# by hand only", grace=grace, extra=extra
        )
        return self

    def run_at(self, when: float) -> dict[str, ItemResult]:
        """`renewer run` in this process at wall-clock time *when*; results by kind/name."""
        configure("json", environ={})  # this test's stderr, not an earlier test's
        results = run_once(self.world.config(), runtime=Runtime(wall_clock=lambda: when))
        return {f"{r.kind}/{r.name}": r for r in results}

    def rotate_at(self, when: float, *, force: bool = False, rollback: bool = False) -> ItemResult:
        """`renewer rotate devvm-token [--now]` in this process at wall-clock time *when*."""
        configure("json", environ={})
        config = self.world.config()
        runtime = Runtime(wall_clock=lambda: when)
        with token_env(config, runtime, dry_run=False) as env:
            results = run_rotations(
                config, env=env, now=when, only=["devvm-token"], force=force, rollback=rollback
            )
        return results[0]

    def cli(self, *args: str) -> CliResult:
        return self.world.cli(*args)

    def advance(self, seconds: float) -> None:
        """Vault's virtual clock moves with ours (dev server); a real Vault's does not."""
        if self.world.vault.is_dev:
            self.world.vault.advance(seconds)

    def state(self, name: str = "devvm-token") -> dict[str, Any]:
        path = self.world.state / "rotation" / f"{name}.json"
        document: dict[str, Any] = json.loads(path.read_text())
        return document

    def accessor_of(self, token: str) -> str:
        info = self.world.lookup(token)
        assert info is not None
        return str(info["accessor"])


def previous_file(world: World) -> Path:
    return world.sink.with_name(world.sink.name + ".previous")
