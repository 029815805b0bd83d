"""Walk one rotation's machine: observe, plan, persist the intent, act, persist the result.

The loop is generic over the :class:`~renewer.rotation.targets.base.Target`
and over how states are persisted, so the unit tests drive it with an
in-memory target and simulated crashes, and the runner with the real ones.
The order inside each step is the whole crash-safety argument:

1. observe the sink (read-only) and plan the next step (pure);
2. persist the step's *intent* phase (when it has one);
3. ``checkpoint("rotation.<step>.before")`` — a crash point in tests;
4. perform the side effect (idempotent, except issuing);
5. ``checkpoint("rotation.<step>.after")``;
6. persist the *result* event.

A crash between any two of these leaves a state from which
:func:`~renewer.rotation.plan.plan_step` resumes correctly. The loop
stops at a ``Wait`` or a ``Refuse``, after a bounded number of steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from renewer import crashpoints
from renewer.errors import RenewerError, RotationBlocked, RotationHookFailed, Temporary
from renewer.rotation import machine as m
from renewer.rotation import plan as p
from renewer.rotation.targets.base import Green, Target

MAX_STEPS = 24  # a full cycle is 9 steps; an abandoned one plus a restart about 14


@dataclass(frozen=True, slots=True)
class Step:
    """Something that happened to a rotation, as a log event."""

    event: str  # "rotation.started", "rotation.promoted", ...
    summary: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DriveReport:
    """What one drive did, for the runner to turn into a result."""

    initial: m.RotationState
    final: m.RotationState
    stopped: p.Action  # the Wait/Refuse it stopped at (the plan itself in a dry run)
    steps: tuple[Step, ...] = ()
    validation_failure: str = ""
    hook_failure: str = ""
    issue_refusal: str = ""

    def did(self, event: str) -> bool:
        return any(step.event == event for step in self.steps)

    def step(self, event: str) -> Step | None:
        """The last step of kind *event* this drive took."""
        return next((step for step in reversed(self.steps) if step.event == event), None)


@dataclass
class _Drive:
    state: m.RotationState
    target: Target
    persist: Callable[[m.RotationState], None]
    now: float
    grace: int
    due_at: Callable[[m.RotationState], float | None]
    checkpoint: Callable[[str], None]
    forced: bool
    rollback: bool
    on_step: Callable[[Step], None]
    in_hand: Green | None = None
    current_problem: str | None = None  # blue used for real in this run: None = not yet
    steps: list[Step] = field(default_factory=list)
    validation_failure: str = ""
    hook_failure: str = ""
    issue_refusal: str = ""

    def facts(self) -> p.Facts:
        return p.Facts(
            sink=self.target.observe(),
            due_at=self.due_at(self.state),
            forced=self.forced,
            green_in_hand=self.in_hand is not None
            and self.in_hand.identifier == self.state.green != "",
            rollback=self.rollback,
            current_problem=self.current_problem,
        )

    def move(self, event: m.Event) -> None:
        self.state = m.apply(self.state, event, now=self.now)
        self.persist(self.state)
        if isinstance(event, m.RolledBack):
            self.rollback = False

    def note(self, event: str, summary: str, **details: str) -> None:
        step = Step(event, summary, details)
        self.steps.append(step)
        self.on_step(step)

    def act(self, action: p.Action) -> None:
        """Perform *action* (not Wait/Refuse): intent, effect, result."""
        intent = getattr(action, "intent", None)
        if intent is not None:
            self.move(intent)
        if isinstance(action, p.VerifyCurrent):
            self._verify(action)
        elif isinstance(action, p.Issue):
            self.forced = False  # one forced cycle per request, even if it is refused
            self._issue(action)
        elif isinstance(action, p.SweepLeftovers):
            self._sweep(action)
        elif isinstance(action, p.Validate):
            self._validate()
        elif isinstance(action, p.Promote | p.ConfirmPromoted):
            self._promote(action)
        elif isinstance(action, p.RestoreBlue):
            self._restore(action)
        elif isinstance(action, p.RevokeBlue):
            self._revoke_blue(action)
        elif isinstance(action, p.Discard):
            self._discard(action)

    def _verify(self, action: p.VerifyCurrent) -> None:
        verdict = self.target.check_current(action.blue)
        self.current_problem = "" if verdict.ok else verdict.explain()

    def _issue(self, action: p.Issue) -> None:
        self.checkpoint("rotation.issue.before")
        try:
            green = self.target.issue(blue=action.blue)
        except Temporary:
            raise  # unknown whether green exists: GREEN_ISSUING stays, the next run sweeps
        except RenewerError as error:
            self.issue_refusal = error.message
            self.move(m.IssueRefused(error.message))
            return
        self.checkpoint("rotation.issue.after")
        self.in_hand = green
        self.move(m.Issued(green.identifier))
        authority = self.target.authority(action.blue)
        self.note(
            "rotation.started",
            f"issued a new {self.target.noun} {green.identifier}"
            + (f" with the authority of {authority}" if authority else ""),
            green=green.identifier,
            blue=action.blue,
        )

    def _sweep(self, action: p.SweepLeftovers) -> None:
        swept = self.target.sweep_leftovers(keep=action.keep)
        self.checkpoint("rotation.sweep_leftovers.after")
        self.move(m.LeftoversSwept())
        self.note(
            "rotation.leftovers_swept",
            f"a run stopped while issuing; removed {swept} {self.target.noun}(s) it had "
            "issued without recording them",
            count=str(swept),
        )

    def _validate(self) -> None:
        assert self.in_hand is not None  # plan_step only validates a green in hand
        try:
            verdict = self.target.validate(self.in_hand)
        except RotationHookFailed as error:
            self.hook_failure = error.message
            self.move(m.HookFailed(error.message))
            return
        self.checkpoint("rotation.validate.after")
        if verdict.ok:
            self.move(m.Validated())
            return
        self.validation_failure = verdict.explain()
        self.move(m.ValidationFailed(verdict.explain()))

    def _promote(self, action: p.Promote | p.ConfirmPromoted) -> None:
        self.checkpoint("rotation.promote.before")
        if isinstance(action, p.Promote):
            assert self.in_hand is not None
            self.target.promote(self.in_hand, blue=action.blue)
        else:
            self.target.confirm_promoted(green=action.green, blue=action.blue)
        self.checkpoint("rotation.promote.after")
        self.move(m.Promoted(self.grace))
        kept = f"; {action.blue} stays valid for the grace period" if action.blue else ""
        self.note(
            "rotation.promoted",
            f"{action.green} is now the active {self.target.noun}{kept}",
            green=action.green,
            blue=action.blue,
        )

    def _restore(self, action: p.RestoreBlue) -> None:
        self.target.restore_blue(blue=action.blue)
        self.checkpoint("rotation.restore.after")
        self.note(
            "rotation.rolled_back",
            f"put {action.blue} back in the sink",
            blue=action.blue,
        )

    def _revoke_blue(self, action: p.RevokeBlue) -> None:
        green = self.state.green
        self.checkpoint("rotation.revoke_blue.before")
        gone_now = self.target.revoke_old(action.blue) if action.blue else False
        self.checkpoint("rotation.revoke_blue.after")
        self.move(m.BlueRevoked(action.successor))
        if action.blue:
            verb = "withdrew" if gone_now else "found already withdrawn"
            self.note(
                "rotation.blue_revoked",
                f"{verb} the old {self.target.noun} {action.blue} after its grace period",
                blue=action.blue,
                green=green,
                successor=action.successor,
                withdrawn_now="yes" if gone_now else "no",
            )

    def _discard(self, action: p.Discard) -> None:
        self.checkpoint("rotation.discard.before")
        gone_now = self.target.discard(action.green)
        self.checkpoint("rotation.discard.after")
        self.in_hand = None
        self.move(m.GreenDiscarded())
        verb = "withdrew" if gone_now else "found already withdrawn"
        self.note(
            "rotation.green_discarded",
            f"{verb} the new {self.target.noun} {action.green} ({action.reason})",
            green=action.green,
        )


def drive(
    state: m.RotationState,
    target: Target,
    *,
    persist: Callable[[m.RotationState], None],
    now: float,
    grace: int,
    due_at: Callable[[m.RotationState], float | None],
    forced: bool = False,
    rollback: bool = False,
    dry_run: bool = False,
    checkpoint: Callable[[str], None] = crashpoints.reached,
    on_step: Callable[[Step], None] = lambda _: None,
    max_steps: int = MAX_STEPS,
) -> DriveReport:
    """Run *state* forward until it waits or is refused; return what happened.

    *persist* is called with every new state before the side effect it
    describes. Errors from the target propagate after the state reached so
    far has been persisted (the next run resumes from it). In a *dry_run*
    nothing is persisted or performed: the report's ``stopped`` is the plan.
    *on_step* hears of each step as it happens (the runner logs it).
    """
    run = _Drive(state, target, persist, now, grace, due_at, checkpoint, forced, rollback, on_step)
    initial = state
    for _ in range(max_steps):
        action = p.plan_step(run.state, run.facts(), now=now)
        if dry_run or isinstance(action, p.Wait | p.Refuse):
            return DriveReport(
                initial=initial,
                final=run.state,
                stopped=action,
                steps=tuple(run.steps),
                validation_failure=run.validation_failure,
                hook_failure=run.hook_failure,
                issue_refusal=run.issue_refusal,
            )
        run.act(action)
    raise RotationBlocked(
        f"rotation {state.name!r} did not settle after {max_steps} steps "
        f"(phase {run.state.phase.value}); this is a bug in renewer",
        hint=f"renewer rotation status; renewer rotate {state.name} --dry-run",
    )
