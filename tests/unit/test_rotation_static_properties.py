"""Properties of the static-secret target, driven as the shell drives it.

The real :class:`StaticSecretTarget` over the in-memory store double, with
two consumers modelled in memory: a *receiver* (the set of secrets it
accepts, replaced by each successful hook) and a *platform* (the one secret
it signs with, replaced by each successful registration). Hypothesis draws
the runs: time gaps, forced cycles, rollbacks, a failing hook or platform at
any call, kill -9 at any checkpoint or inside a hook. The promises:

* the platform never signs with a secret the receiver refuses;
* the secret in use (the store's current one) is always accepted;
* a run that ends at rest leaves the receiver accepting exactly the current
  secret — the old one is withdrawn before a cycle counts as completed
  (issue 19: a failed final hook used to end the cycle anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from renewer.core.drift import Verdict
from renewer.core.secret import Secret
from renewer.errors import RenewerError, RotationHookFailed
from renewer.rotation import machine as m
from renewer.rotation.drive import drive
from renewer.rotation.targets.static import StaticSecretTarget
from tests.unit.rotation_fakes import Crash, InMemorySecretStoreDouble

NOW = 1_000_000.0
GRACE = 50
OK, FAIL, CRASH_AFTER = "ok", "fail", "crash-after"


@dataclass
class Consumers:
    """The receiver and the platform, and what the next calls to them will do."""

    accepted: frozenset[str] = frozenset({"v0"})
    signing: str = "v0"
    faults: list[str] = field(default_factory=list)  # consumed one per hook/register call

    def _fault(self) -> str:
        return self.faults.pop(0) if self.faults else OK

    def hook(self, values: Mapping[str, Secret]) -> None:
        fault = self._fault()
        if fault == FAIL:
            raise RotationHookFailed("the hook exited 3")
        self.accepted = frozenset(value.reveal() for value in values.values() if value)
        if fault == CRASH_AFTER:
            raise Crash("inside the hook, after it applied")

    def register(self, value: Secret, values: Mapping[str, Secret]) -> None:
        fault = self._fault()
        if fault == FAIL:
            raise RotationHookFailed("the platform answered 422")
        self.signing = value.reveal()
        if fault == CRASH_AFTER:
            raise Crash("inside the registration, after it applied")

    def check(self, value: Secret) -> Verdict:
        ok = value.reveal() in self.accepted
        return Verdict() if ok else Verdict(("the receiver answered 401",))


def due_at(rotation: m.RotationState) -> float | None:
    if rotation.last_result.failed and rotation.last_failed_at is not None:
        return rotation.last_failed_at + 30
    return (rotation.due_base or rotation.anchor) + 100


Run = tuple[int, bool, bool, int | None, list[str]]
runs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=120),  # seconds since the last run
        st.booleans(),  # rotate --now
        st.booleans(),  # rotate --rollback
        st.none() | st.integers(min_value=0, max_value=14),  # kill -9 at checkpoint n
        st.lists(st.sampled_from([OK, OK, FAIL, CRASH_AFTER]), max_size=4),  # consumer faults
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(schedule=runs)
def test_the_receiver_drops_the_old_secret_before_a_cycle_completes(schedule: list[Run]) -> None:
    """Whatever fails or dies, and wherever: see the module docstring."""
    store = InMemorySecretStoreDouble({"secret": "v0", "secret.id": "k-0"})
    consumers = Consumers()
    counter = iter(range(1, 10_000))
    target = StaticSecretTarget(
        store=store,
        check=consumers.check,
        hook=consumers.hook,
        register=consumers.register,
        generate=lambda: Secret(f"v{next(counter)}"),
        key_id=lambda: f"k-{next(counter)}",
    )
    state = m.new_state("hooks", "static", now=NOW)
    now = NOW

    def persist(new: m.RotationState) -> None:
        nonlocal state
        state = new

    for gap, forced, rollback, crash_at, faults in schedule:
        now += gap
        consumers.faults = list(faults)
        seen: list[str] = []

        def checkpoint(point: str, crash_at: int | None = crash_at, seen: list[str] = seen) -> None:
            seen.append(point)
            if crash_at is not None and len(seen) - 1 == crash_at:
                raise Crash(point)

        finished = False
        try:
            drive(
                state,
                target,
                persist=persist,
                now=now,
                grace=GRACE,
                due_at=due_at,
                forced=forced,
                rollback=rollback,
                checkpoint=checkpoint,
            )
            finished = True
        except (Crash, RenewerError):
            pass
        current = store.plain()["secret"]
        assert consumers.signing in consumers.accepted, "the platform signs with a refused key"
        assert current in consumers.accepted, "the secret in use is refused"
        if finished and not state.in_cycle:
            assert consumers.accepted == {current}, "an old or new key is still accepted at rest"
            assert consumers.signing == current
            assert set(store.plain()) == {"secret", "secret.id"}
