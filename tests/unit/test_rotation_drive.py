"""Tests for renewer.rotation.drive: intent before effect, errors, dry runs, the steps told."""

from __future__ import annotations

import pytest

from renewer.errors import RotationBlocked, VaultUnavailable
from renewer.rotation import machine as m
from renewer.rotation import plan as p
from renewer.rotation.drive import DriveReport, Step, drive
from tests.unit.rotation_fakes import FakeTarget, FakeWorld

NOW = 5000.0


class Disk:
    def __init__(self) -> None:
        self.state = m.new_state("r", "fake", now=0.0)
        self.history: list[m.Phase] = []

    def save(self, state: m.RotationState) -> None:
        self.state = state
        self.history.append(state.phase)


def run(
    world: FakeWorld,
    disk: Disk,
    *,
    now: float = NOW,
    grace: int = 0,
    forced: bool = True,
    dry_run: bool = False,
    rollback: bool = False,
    steps: list[Step] | None = None,
) -> tuple[FakeTarget, DriveReport]:
    target = FakeTarget(world)
    report = drive(
        disk.state,
        target,
        persist=disk.save,
        now=now,
        grace=grace,
        due_at=lambda _: None,
        forced=forced,
        dry_run=dry_run,
        rollback=rollback,
        on_step=(steps.append if steps is not None else lambda _: None),
    )
    return target, report


class TestDrive:
    def test_a_full_cycle_persists_every_phase_in_order(self) -> None:
        """Each intent is on disk before its effect; the cycle ends at rest with green as blue."""
        world, disk = FakeWorld(), Disk()
        target, _ = run(world, disk)
        assert disk.history == [
            m.Phase.GREEN_ISSUING,
            m.Phase.GREEN_ISSUED,
            m.Phase.GREEN_VALIDATED,
            m.Phase.PROMOTING,
            m.Phase.GREEN_ACTIVE,
            m.Phase.BLUE_REVOKING,
            m.Phase.BLUE_ACTIVE,
        ]
        assert [call for call in target.calls if call != "observe"] == [
            "check_current",
            "issue",
            "validate",
            "promote",
            "revoke_old",
        ]
        assert (disk.state.blue, world.sink, world.live) == ("k1", "k1", {"k1"})

    def test_steps_are_told_as_they_happen(self) -> None:
        """started, promoted, blue_revoked: the runner logs each."""
        steps: list[Step] = []
        run(FakeWorld(), Disk(), steps=steps)
        assert [step.event for step in steps] == [
            "rotation.started",
            "rotation.promoted",
            "rotation.blue_revoked",
        ]
        assert steps[0].details == {"green": "k1", "blue": "k0"}

    def test_a_dry_run_only_observes(self) -> None:
        """The plan comes back; nothing is persisted or performed (not even the check of blue,
        which would send a test webhook)."""
        world, disk = FakeWorld(), Disk()
        target, report = run(world, disk, dry_run=True)
        assert target.calls == ["observe"]
        assert disk.history == []
        assert report.stopped == p.VerifyCurrent("k0")
        assert p.describe(report.stopped, "key") == (
            "check the current key k0 still works, then issue a new one, validate and promote it"
        )

    def test_the_authority_is_the_targets_own_words(self) -> None:
        """`issued a new secret-id ... with the authority of <old secret-id>` was wrong: the
        target says whose authority it used (or none, for a generated key)."""
        steps: list[Step] = []
        run(FakeWorld(), Disk(), steps=steps)
        assert steps[0].summary == "issued a new key k1 with the authority of the current key k0"

    def test_a_broken_current_credential_stops_before_issuing(self) -> None:
        """Nothing persisted, nothing issued; the refusal names the reason."""
        world, disk = FakeWorld(current_broken=True), Disk()
        target, report = run(world, disk)
        assert "issue" not in target.calls
        assert disk.history == []
        assert isinstance(report.stopped, p.Refuse)
        assert "refused" in report.stopped.reason

    def test_an_outage_while_issuing_leaves_the_intent_for_the_next_run(self) -> None:
        """Unknown whether green exists: GREEN_ISSUING stays; the next run sweeps, then retries."""
        world, disk = FakeWorld(unavailable={"issue"}), Disk()
        with pytest.raises(VaultUnavailable):
            run(world, disk)
        assert disk.state.phase is m.Phase.GREEN_ISSUING
        world.unavailable.clear()
        target, report = run(world, disk, forced=False)
        assert target.calls[:2] == ["observe", "sweep_leftovers"]
        assert report.final.phase is m.Phase.BLUE_ACTIVE
        assert report.final.last_result is m.LastResult.ABANDONED

    def test_a_refused_issue_records_the_failure_and_stops(self) -> None:
        """Nothing was created: back at rest with the reason; the forced request is used up."""
        world, disk = FakeWorld(refuse_issue=True), Disk()
        target, report = run(world, disk)
        assert "permission denied" in report.issue_refusal
        assert disk.state.last_result is m.LastResult.ISSUE_REFUSED
        assert target.calls.count("issue") == 1

    def test_a_failed_validation_discards_green_and_stops(self) -> None:
        """Green revoked, blue untouched and still in the sink."""
        world, disk = FakeWorld(fail_next_validation=True), Disk()
        _, report = run(world, disk)
        assert report.validation_failure == "login with it was refused"
        assert (world.sink, world.live, world.revoked) == ("k0", {"k0"}, ["k1"])
        assert disk.state.phase is m.Phase.BLUE_ACTIVE

    def test_an_outage_while_revoking_blue_is_resumed(self) -> None:
        """BLUE_REVOKING stays on disk; the next run revokes blue once."""
        world, disk = FakeWorld(unavailable={"revoke_old"}), Disk()
        with pytest.raises(VaultUnavailable):
            run(world, disk)
        assert disk.state.phase is m.Phase.BLUE_REVOKING
        world.unavailable.clear()
        _, report = run(world, disk, forced=False)
        assert (report.final.phase, world.revoked) == (m.Phase.BLUE_ACTIVE, ["k0"])

    def test_a_second_request_while_in_grace_does_not_start_another_cycle(self) -> None:
        """max_parallel: 1 — `rotate --now` during the grace waits for it."""
        world, disk = FakeWorld(), Disk()
        run(world, disk, grace=100)
        target, report = run(world, disk, now=NOW + 1, grace=100)
        assert "issue" not in target.calls
        assert report.stopped == p.Wait("blue's grace period is running", until=NOW + 100)

    def test_a_machine_that_never_settles_is_a_bug_not_a_loop(self) -> None:
        """Bounded steps, then a clear error."""
        with pytest.raises(RotationBlocked, match="did not settle after 2 steps"):
            drive(
                Disk().state,
                FakeTarget(FakeWorld()),
                persist=lambda _: None,
                now=NOW,
                grace=0,
                due_at=lambda _: None,
                forced=True,
                max_steps=2,
            )
