"""Properties of the whole rotation (machine + plan + drive): crashes, replays, by hand.

The drive is run as the shell runs it, against the in-memory target of
``rotation_fakes``, with kill -9 simulated at random checkpoints. The static
target's own promises (the receiver withdraws the old key before a cycle
completes; the platform never signs with a key the receiver refuses) are in
``test_rotation_static_properties.py``.
"""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from renewer.rotation import machine as m
from renewer.rotation import plan as p
from renewer.rotation.drive import drive
from tests.unit.rotation_fakes import Crash, FakeTarget, FakeWorld

NOW = 1_000_000.0
GRACE = 50


def due_at(rotation: m.RotationState) -> float | None:
    """Every 100 s after the last completed cycle; a failure retries 30 s later."""
    if rotation.last_result.failed and rotation.last_failed_at is not None:
        return rotation.last_failed_at + 30
    return (rotation.due_base or rotation.anchor) + 100


@st.composite
def runs(draw: st.DrawFn) -> list[tuple[int, bool, int | None, bool, bool]]:
    """Runs: (seconds since the last run, forced, crash at checkpoint n, bad green, rollback)."""
    return draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=120),
                st.booleans(),
                st.none() | st.integers(min_value=0, max_value=12),
                st.booleans(),
                st.booleans(),
            ),
            min_size=1,
            max_size=14,
        )
    )


class Disk:
    """The persisted state, as a state file would keep it across a kill -9."""

    def __init__(self, initial: m.RotationState) -> None:
        self.state = initial

    def save(self, rotation: m.RotationState) -> None:
        self.state = rotation


def crash_at(index: int | None) -> tuple[list[str], object]:
    seen: list[str] = []

    def checkpoint(point: str) -> None:
        seen.append(point)
        if index is not None and len(seen) - 1 == index:
            raise Crash(point)

    return seen, checkpoint


@settings(max_examples=300, deadline=None)
@given(schedule=runs(), foreign=st.sets(st.sampled_from(["f1", "f2"])))
def test_crashes_and_replays_never_revoke_the_active_or_leave_two(
    schedule: list[tuple[int, bool, int | None, bool, bool]], foreign: set[str]
) -> None:
    """Random runs, kill -9 at random points, rollbacks and bad greens: the sink is always
    alive, a completed run at rest (or past the grace) leaves exactly one credential of the
    rotation's, and recovery revokes only what the rotation issued or started from."""
    world = FakeWorld(live={"k0", *foreign}, foreign=set(foreign))
    now = NOW
    disk = Disk(m.new_state("r", "fake", now=now))
    for advance, forced, crash, bad, rollback in schedule:
        now += advance
        world.fail_next_validation = bad
        _, checkpoint = crash_at(crash)
        target = FakeTarget(world, checkpoint=checkpoint)  # type: ignore[arg-type]
        try:
            report = drive(
                disk.state,
                target,
                persist=disk.save,
                now=now,
                grace=GRACE,
                due_at=due_at,
                forced=forced,
                rollback=rollback,
                checkpoint=checkpoint,  # type: ignore[arg-type]
            )
        except Crash:
            assert world.sink in world.live, "the active credential was revoked"
            continue
        final = report.final
        assert final == disk.state
        assert world.sink in world.live, "the active credential was revoked"
        if final.in_flight:  # only a rollback asked too late stops a run mid-phase
            assert rollback and isinstance(report.stopped, p.Refuse), final.phase
            continue
        ours = world.live - world.foreign
        if final.phase is m.Phase.BLUE_ACTIVE:
            assert ours == {world.sink}, "two credentials alive at rest"
            assert final.green == ""
        else:
            assert world.sink == final.green
            assert ours <= {final.blue, final.green}
            assert final.grace_ends_at is not None and now < final.grace_ends_at
    assert len(world.revoked) == len(set(world.revoked))
    assert world.foreign <= world.live, "recovery revoked a credential the rotation never issued"
    assert set(world.revoked) <= world.issued | {"k0"}


@settings(max_examples=100, deadline=None)
@given(crash=st.integers(min_value=0, max_value=9), bad=st.booleans())
def test_resume_from_every_crash_point_completes_one_cycle(crash: int, bad: bool) -> None:
    """kill -9 at checkpoint n of a forced cycle, then plain runs: exactly one credential
    is left, the sink's; when the cycle completed, blue was revoked exactly once."""
    world = FakeWorld(bad={"k1"} if bad else set())
    disk = Disk(m.new_state("r", "fake", now=NOW))
    _, checkpoint = crash_at(crash)
    with contextlib.suppress(Crash):
        drive(
            disk.state,
            FakeTarget(world, checkpoint=checkpoint),  # type: ignore[arg-type]
            persist=disk.save,
            now=NOW,
            grace=0,
            due_at=lambda _: None,
            forced=True,
            checkpoint=checkpoint,  # type: ignore[arg-type]
        )
    for later in (1, 2):
        drive(
            disk.state,
            FakeTarget(world),
            persist=disk.save,
            now=NOW + later,
            grace=0,
            due_at=lambda _: None,
        )
    assert world.live == {world.sink}
    assert not disk.state.in_flight
    if disk.state.last_result is m.LastResult.COMPLETED:
        assert (world.sink, world.revoked) == ("k1", ["k0"])
    else:
        assert world.sink == "k0"
        assert "k0" not in world.revoked


@settings(max_examples=100, deadline=None)
@given(
    failures=st.lists(st.booleans(), min_size=1, max_size=4),
    gaps=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=6),
)
def test_a_rotation_by_hand_never_starts_by_itself(failures: list[bool], gaps: list[int]) -> None:
    """No schedule: after any number of forced cycles (some failing), plain runs at any later
    time never issue anything — retries of a by-hand rotation are by hand too."""
    world = FakeWorld()
    disk = Disk(m.new_state("r", "fake", now=NOW))
    now = NOW
    for bad in failures:
        world.fail_next_validation = bad
        drive(
            disk.state,
            FakeTarget(world),
            persist=disk.save,
            now=now,
            grace=0,
            due_at=lambda _: None,
            forced=True,
        )
    issued = world.counter
    for gap in gaps:
        now += gap
        target = FakeTarget(world)
        drive(disk.state, target, persist=disk.save, now=now, grace=0, due_at=lambda _: None)
        assert "issue" not in target.calls
    assert world.counter == issued


@settings(max_examples=100, deadline=None)
@given(broken=st.booleans(), forced=st.booleans())
def test_nothing_is_issued_from_a_current_credential_that_fails_its_check(
    broken: bool, forced: bool
) -> None:
    """Seed 001's first step: a blue that does not work blocks the cycle; nothing is created."""
    world = FakeWorld(current_broken=broken)
    disk = Disk(m.new_state("r", "fake", now=NOW))
    report = drive(
        disk.state,
        FakeTarget(world),
        persist=disk.save,
        now=NOW + 1000,
        grace=0,
        due_at=due_at,
        forced=forced,
    )
    if broken:
        assert world.counter == 0
        assert isinstance(report.stopped, p.Refuse)
        assert disk.state.phase is m.Phase.BLUE_ACTIVE
    else:
        assert world.counter == 1
