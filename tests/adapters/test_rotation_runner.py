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
from renewer.logging import configure
from renewer.rotation import machine as m
from renewer.rotation import notes
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


@pytest.fixture(autouse=True)
def logging_to_this_tests_stderr() -> None:
    """An earlier test may have left structlog writing to a stream that is closed now."""
    configure("json", environ={})


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
        assert "it was withdrawn and the old key k0 stays active" in result.summary
        assert result.summary.endswith("fix the cause, then: renewer rotate r --now")
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
        assert "would check the current key k0 still works, then issue" in result.summary
        assert not RotationStore(setup[0].state_dir).directory.exists()

    def test_the_run_ends_with_what_rotated_and_what_did_not(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """One rotation.report line after the results."""
        with capture_logs() as logs:
            rotate(setup, world, force=True)
        report = [entry for entry in logs if entry["event"] == "rotation.report"]
        assert report[0]["summary"] == "rotations: rotated: r"
        steps = [entry["event"] for entry in logs]
        assert steps.index("rotation.started") < steps.index("rotation.promoted")


def state_of(setup: tuple[Config, TokenEnv]) -> m.RotationState:
    state = RotationStore(setup[0].state_dir).load("r")
    assert state is not None
    return state


class TestHonestWords:
    def test_a_run_that_ends_a_cycle_and_starts_the_next_says_both(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """`ROTATED ... the old token X was revoked` while X was alive in its grace: now the
        completed cycle (W withdrawn) and the new one (X stays valid) are told apart."""
        rotate(setup, world, force=True)  # k1 active, k0 in its grace
        result = rotate(setup, world, now=NOW + 7200, force=True)  # k0 withdrawn, k2 active
        assert result.event == "rotation.rotated"
        assert result.summary.startswith(
            "ROTATED r: withdrew the old key k0 after its grace; k1 is the only one; then new "
            "key k2 active; the old key k1 stays valid until "
        )
        assert "was revoked" not in result.summary
        assert world.live == {"k1", "k2"}

    def test_a_rotation_and_its_completion_are_counted_once_each(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """The closing line had one cycle as `rotated` twice (promotion, then completion)."""
        with capture_logs() as logs:
            rotate(setup, world, force=True)
            rotate(setup, world, now=NOW + 7200)
        reports = [entry for entry in logs if entry["event"] == "rotation.report"]
        assert [entry["summary"] for entry in reports] == [
            "rotations: rotated: r",
            "rotations: rotated: none; completed: r",
        ]

    def test_failures_are_counted_as_failed_not_other(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """`other:` said nothing; a failed cycle is `failed:`."""
        world.fail_next_validation = True
        with capture_logs() as logs:
            rotate(setup, world, force=True)
        report = next(entry for entry in logs if entry["event"] == "rotation.report")
        assert report["summary"] == "rotations: rotated: none; failed: r"
        assert report["failed"] == "r"

    def test_a_dry_run_with_nothing_due_reads_as_a_sentence(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """`PLAN r: would nothing to do` was the old wording."""
        result = rotate(setup, world, dry_run=True)
        assert result.summary.startswith("PLAN r: nothing to do (not due); next due never")


class TestStatusNotes:
    def test_a_failed_step_is_noted_for_status_and_cleared_by_a_good_run(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """The phase stays (the step is repeated); status can say why the last run stopped."""
        rotate(setup, world, force=True)
        world.unavailable.add("revoke_old")
        failed = rotate(setup, world, now=NOW + 7200)
        assert failed.outcome is Outcome.TEMPORARY
        noted = state_of(setup)
        assert noted.phase is m.Phase.BLUE_REVOKING
        assert "cannot reach Vault" in noted.run_error
        assert "stopped in phase blue_revoking" in notes.attention(noted, now=NOW + 7200)
        world.unavailable.clear()
        done = rotate(setup, world, now=NOW + 7300)
        assert done.event == "rotation.completed"
        assert state_of(setup).run_error == ""

    def test_a_current_key_that_fails_its_check_is_blocked_and_noted(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """Seed 001's first step: nothing issued; exit 1; status says why."""
        world.current_broken = True
        result = rotate(setup, world, force=True)
        assert (result.event, result.outcome) == ("rotation.blocked", Outcome.NEEDS_HUMAN)
        assert "the current credential failed its check" in result.summary
        assert world.counter == 0
        assert "failed its check" in state_of(setup).run_error

    def test_a_dry_run_never_notes_anything(
        self, setup: tuple[Config, TokenEnv], world: FakeWorld
    ) -> None:
        """A dry run writes no state at all."""
        world.unavailable.add("observe")
        result = rotate(setup, world, force=True, dry_run=True)
        assert result.outcome is Outcome.TEMPORARY
        assert not RotationStore(setup[0].state_dir).directory.exists()
