"""renewer.rotation.runner with an in-memory target bound through ``factories``.

This is how any target (the static-secret one, once bound to a store) plugs
in; here it lets every result the runner can give be checked without Vault.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from renewer.config import Config, RotationSpec, load_config
from renewer.core.outcome import ItemResult, Outcome
from renewer.rotation.runner import run_rotations
from renewer.rotation.store import RotationStore
from renewer.tokens.env import TokenEnv
from renewer.tokens.ledger import Ledger
from renewer.vault import RetryPolicy, VaultConnection
from tests.unit.rotation_fakes import FakeTarget, FakeWorld

CONFIG = """\
version: 1
vault: {{addr: "http://127.0.0.1:9"}}
state_dir: {state}
tokens:
  - name: devvm
    path: {home}/.vault-token
    expect: {{display_name: token-devvm, policies: [admin]}}
    mint: {{display_name: devvm, policies: [admin], period: 768h}}
rotations:
  - name: r
    type: vault-token
    token: devvm
    grace: {grace}
"""
NOW = 1_800_000_000.0


@pytest.fixture
def world() -> FakeWorld:
    return FakeWorld()


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Config, TokenEnv]]:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(state=tmp_path / "state", home=tmp_path, grace="1h"))
    config = load_config(path, environ={"HOME": str(tmp_path)})
    with VaultConnection(config.vault, RetryPolicy.starting_now(1)) as connection:
        yield (
            config,
            TokenEnv(
                config=config,
                connection=connection,
                ledger=Ledger(tmp_path),
                owner="0123456789abcdef",
            ),
        )


def rotate(
    setup: tuple[Config, TokenEnv],
    world: FakeWorld,
    *,
    now: float = NOW,
    force: bool = False,
    dry_run: bool = False,
) -> ItemResult:
    config, env = setup
    env.dry_run = dry_run

    def fake(spec: RotationSpec, config: Config, env: TokenEnv) -> FakeTarget:
        return FakeTarget(world)

    results = run_rotations(config, env=env, now=now, force=force, factories={"vault-token": fake})
    assert len(results) == 1
    return results[0]


class TestResults:
    def test_first_sight_records_an_anchor_and_is_unchanged(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """By hand only: never due; the state file exists from the first run."""
        result = rotate(setup, world)
        assert (result.event, result.outcome) == ("rotation.unchanged", Outcome.UNCHANGED)
        assert "never (by hand only" in result.summary
        assert RotationStore(setup[0].state_dir).load("r") is not None

    def test_a_forced_cycle_is_rotated_then_completed_after_the_grace(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """rotated (grace running), unchanged in the grace, completed after it."""
        rotated = rotate(setup, world, force=True)
        assert (rotated.event, rotated.outcome) == ("rotation.rotated", Outcome.OK)
        assert "the old key k0 stays valid until" in rotated.summary
        assert rotated.details["phase"] == "green_active"
        waiting = rotate(setup, world, now=NOW + 60)
        assert waiting.event == "rotation.unchanged"
        assert "in its grace period until" in waiting.summary
        done = rotate(setup, world, now=NOW + 3600)
        assert (done.event, done.outcome) == ("rotation.completed", Outcome.OK)
        assert world.live == {"k1"}

    def test_a_failed_validation_is_an_alert_with_the_runbook(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """NEEDS_HUMAN (exit 1), the reason, what renewer did, the anchor."""
        world.fail_next_validation = True
        result = rotate(setup, world, force=True)
        assert (result.event, result.outcome) == (
            "rotation.validation_failed",
            Outcome.NEEDS_HUMAN,
        )
        assert result.summary.startswith("VALIDATION FAILED r: the new key did not work")
        assert "it was revoked and k0 stays active" in result.summary
        assert result.details["see"] == "runbooks/rotation.md#rotation-validation-failed"

    def test_an_unhealthy_sink_is_skipped_as_a_warning(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """The heal's job first; exit stays 0 but status shows it."""
        world.live.clear()
        result = rotate(setup, world, force=True)
        assert (result.event, result.outcome) == ("rotation.skipped", Outcome.WARNING)

    def test_an_outage_is_temporary_and_names_the_runbook(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """75, with the state left for the next run."""
        world.unavailable.add("promote")
        result = rotate(setup, world, force=True)
        assert (result.event, result.outcome) == ("rotation.failed", Outcome.TEMPORARY)
        assert result.details["see"] == "runbooks/token-renewer.md#vault-unreachable"
        state = RotationStore(setup[0].state_dir).load("r")
        assert state is not None and state.phase.value == "promoting"

    def test_a_dry_run_plans_and_records_nothing(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """PLAN line; no state file."""
        result = rotate(setup, world, force=True, dry_run=True)
        assert result.event == "rotation.plan"
        assert "would issue a new key with the authority of k0" in result.summary
        assert not RotationStore(setup[0].state_dir).directory.exists()

    def test_the_run_ends_with_what_rotated_and_what_did_not(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """One rotation.report line after the results."""
        with capture_logs() as logs:
            rotate(setup, world, force=True)
        report = [entry for entry in logs if entry["event"] == "rotation.report"]
        assert report[0]["summary"] == "rotations: rotated: r; unchanged: none"
        steps = [entry["event"] for entry in logs]
        assert steps.index("rotation.started") < steps.index("rotation.promoted")
