"""The shell of step 5 of ``renewer run``, and of ``renewer rotate``: due rotations, one by one.

For each selected rotation: load its state (or start one), build its target,
:func:`~renewer.rotation.drive.drive` it at the caller's ``now``, and turn
what happened into one :class:`~renewer.core.outcome.ItemResult`
(:mod:`renewer.rotation.report` words it). Rotations are isolated from each
other: an error in one is its result and never stops the next. Steps are
logged as they happen (``rotation.started``, ``rotation.promoted``,
``rotation.blue_revoked``, ...), each rotation ends with one canonical line
(``rotation.rotated``, ``rotation.completed``, ``rotation.unchanged``,
``rotation.validation_failed``, ``rotation.hook_failed``, ...), and the run
ends with ``rotation.report``: which credentials rotated, which did not.

A run that stops with an error, or is refused, records why in the rotation's
state (``run_error``) so ``renewer rotation status`` says so until a later
run of that rotation succeeds.

``dry_run`` observes the sinks (read-only) and reports the next step and
when the rotation is due; it writes, issues and revokes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from renewer.config import Config, RotationSpec
from renewer.core.outcome import Detail, ItemResult, Outcome, outcome_for_exit_code
from renewer.errors import RenewerError, RotationBlocked
from renewer.logging import get_logger
from renewer.rotation import machine as m
from renewer.rotation import notes
from renewer.rotation import plan as p
from renewer.rotation import report as words
from renewer.rotation.drive import DriveReport, Step, drive
from renewer.rotation.schedule import as_iso, due_at
from renewer.rotation.store import RotationStore
from renewer.rotation.targets.approle import AppRoleTarget
from renewer.rotation.targets.base import Target
from renewer.rotation.targets.credential_entry import build_static
from renewer.rotation.targets.vault_token import VaultTokenTarget
from renewer.tokens.env import TokenEnv

TargetFactory = Callable[[RotationSpec, Config, TokenEnv], Target]

FACTORIES: dict[str, TargetFactory] = {
    "vault-token": VaultTokenTarget.build,
    "approle": AppRoleTarget.build,
    "static": build_static,
}
"""Target type → constructor."""


def next_due_at(spec: RotationSpec, state: m.RotationState) -> float | None:
    """When *state*'s next cycle is due under *spec*'s schedule (None: by hand only)."""
    return due_at(
        spec.schedule,
        base=state.due_base if state.due_base is not None else state.anchor,
        last_failed_at=state.last_failed_at,
        failed=state.last_result.failed,
        retry_after=spec.retry_after,
    )


@dataclass
class _Book:
    """The rotation's state file as this run left it, for the note a failed run adds."""

    store: RotationStore
    dry_run: bool
    latest: m.RotationState | None = None

    def save(self, state: m.RotationState) -> None:
        self.latest = state
        if not self.dry_run:
            self.store.save(state)

    def note(self, change: Callable[[m.RotationState], m.RotationState]) -> None:
        """Record a run's end in the state (never in a dry run; a failure here is secondary)."""
        if self.latest is None or self.dry_run:
            return
        changed = change(self.latest)
        if changed != self.latest:
            with contextlib.suppress(RenewerError):
                self.save(changed)


def run_rotations(
    config: Config,
    *,
    env: TokenEnv,
    now: float,
    only: Collection[str] = (),
    force: bool = False,
    rollback: bool = False,
    factories: Mapping[str, TargetFactory] | None = None,
    on_result: Callable[[ItemResult], None] = lambda _: None,
) -> list[ItemResult]:
    """Drive every selected rotation once at *now*; ``env.dry_run`` changes nothing.

    *force* (``rotate --now``) starts a cycle whatever the schedule;
    *rollback* (``rotate --rollback``) abandons the cycle in flight. Neither
    ever starts a second cycle while one is in flight: that one is resumed.
    *on_result* hears each rotation's result as soon as it exists (the caller
    logs it), before the closing ``rotation.report`` line. *factories* add
    or override target constructors by type.
    """
    store = RotationStore(config.state_dir)
    selected = [spec for spec in config.rotations if not only or spec.name in only]
    results: list[ItemResult] = []
    for spec in selected:
        book = _Book(store, env.dry_run)
        run = _Run(spec, config, env, book, now=now, force=force, rollback=rollback)
        results.append(run.result(factories))
        on_result(results[-1])
    if results:
        words.close_run(results, dry_run=env.dry_run)
    return results


@dataclass
class _Run:
    spec: RotationSpec
    config: Config
    env: TokenEnv
    book: _Book
    now: float
    force: bool
    rollback: bool

    def result(self, factories: Mapping[str, TargetFactory] | None) -> ItemResult:
        log = get_logger()
        noted = len(self.env.notes)
        try:
            result = self._drive(factories)
        except RenewerError as error:
            reason = error.message
            self.book.note(lambda state: notes.run_failed(state, reason, now=self.now))
            return self._failure(error)
        finally:
            for note in self.env.notes[noted:]:
                log.warning("rotation.note", item=self.spec.name, kind="rotation", summary=note)
        if result.event == "rotation.blocked":
            self.book.note(lambda state: notes.run_failed(state, result.summary, now=self.now))
        else:
            self.book.note(notes.run_succeeded)
        return result

    def _drive(self, factories: Mapping[str, TargetFactory] | None) -> ItemResult:
        log = get_logger()
        spec = self.spec
        state = self._load()
        factory = {**FACTORIES, **(factories or {})}.get(spec.type.value)
        if factory is None:
            raise RotationBlocked(f"no rotation target for type {spec.type.value!r}")
        target = factory(spec, self.config, self.env)
        if state.in_flight:
            log.info(
                "rotation.resumed",
                item=spec.name,
                kind="rotation",
                summary=f"{spec.name}: resuming from phase {state.phase.value} "
                f"(since {as_iso(state.since)})",
                phase=state.phase.value,
            )

        def on_step(step: Step) -> None:
            log.info(
                step.event,
                item=spec.name,
                kind="rotation",
                summary=f"{spec.name}: {step.summary}",
                **step.details,
            )

        report = drive(
            state,
            target,
            persist=self.book.save,
            now=self.now,
            grace=spec.grace,
            due_at=lambda current: next_due_at(spec, current),
            forced=self.force,
            rollback=self.rollback,
            dry_run=self.env.dry_run,
            on_step=on_step,
        )
        return self._outcome(target, report)

    def _load(self) -> m.RotationState:
        """The recorded state; a new one (recorded at once: its anchor starts the schedule)."""
        spec = self.spec
        state = self.book.store.load(spec.name)
        if state is not None and state.target != spec.type.value:
            if state.in_cycle:
                raise RotationBlocked(
                    f"rotation {spec.name!r} is a {spec.type.value} rotation in the config but "
                    f"its state records a {state.target} cycle in flight ({state.phase.value})",
                    hint=f"put the old type back until `renewer rotation status` shows "
                    f"{m.Phase.BLUE_ACTIVE.value}, or see the runbook",
                )
            state = replace(state, target=spec.type.value, blue="", green="")
        self.book.latest = state
        if state is None:
            state = m.new_state(spec.name, spec.type.value, now=self.now)
            self.book.save(state)
        return state

    def details(self, **extra: Detail) -> dict[str, Detail]:
        spec, state = self.spec, self.book.latest
        if state is None:
            return {"type": spec.type.value, **extra}
        return {
            "type": spec.type.value,
            "phase": state.phase.value,
            "since": as_iso(state.since),
            "blue": state.blue or None,
            "green": state.green or None,
            "grace_ends_at": as_iso(state.grace_ends_at),
            "next_due_at": as_iso(next_due_at(spec, state), spec.schedule.timezone),
            "last_result": state.last_result.value,
            "cycles": state.cycles,
            **extra,
        }

    def _outcome(self, target: Target, report: DriveReport) -> ItemResult:
        spec, noun = self.spec, target.noun
        if self.env.dry_run:
            due = as_iso(next_due_at(spec, report.final), spec.schedule.timezone)
            outcome = Outcome.UNCHANGED if isinstance(report.stopped, p.Wait) else Outcome.OK
            summary = words.plan_summary(spec, noun, report, due)
            details = self.details()
            return ItemResult("rotation", spec.name, outcome, "rotation.plan", summary, details)
        failed = report.validation_failure or report.hook_failure or report.issue_refusal
        if isinstance(report.stopped, p.Refuse) and not failed:
            event, summary, outcome = words.refused(
                spec, report.stopped, phase=report.final.phase.value
            )
            if report.steps:
                summary += " (before that: " + "; ".join(s.summary for s in report.steps) + ")"
        else:
            event, summary, outcome = words.summarize(spec, noun, report)
        extra: dict[str, Detail] = {}
        if not outcome.healthy:
            extra = {"error": summary, "see": words.see(event)}
        return ItemResult("rotation", spec.name, outcome, event, summary, self.details(**extra))

    def _failure(self, error: RenewerError) -> ItemResult:
        summary = f"FAILED {self.spec.name}: {error.message}"
        if error.hint:
            summary += f"; {error.hint}"
        return ItemResult(
            kind="rotation",
            name=self.spec.name,
            outcome=outcome_for_exit_code(error.exit_code),
            event="rotation.failed",
            summary=summary,
            details=self.details(error=error.message, see=error.see),
        )
