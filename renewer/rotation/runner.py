"""The shell of step 5 of ``renewer run``, and of ``renewer rotate``: due rotations, one by one.

For each selected rotation: load its state (or start one), build its target,
:func:`~renewer.rotation.drive.drive` it at the caller's ``now``, and turn
what happened into one :class:`~renewer.core.outcome.ItemResult`. Rotations
are isolated from each other: an error in one is its result and never stops
the next. Steps are logged as they happen (``rotation.started``,
``rotation.promoted``, ``rotation.blue_revoked``, ...), each rotation ends
with one canonical line (``rotation.rotated``, ``rotation.completed``,
``rotation.unchanged``, ``rotation.validation_failed``, ...), and the run
ends with ``rotation.report``: which credentials rotated, which did not.

``dry_run`` observes the sinks (read-only) and reports the next step and
when the rotation is due; it writes, issues and revokes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace

from renewer.config import Config, RotationSpec
from renewer.core.duration import format_duration
from renewer.core.outcome import Detail, ItemResult, Outcome, outcome_for_exit_code
from renewer.errors import RenewerError, RotationBlocked, RotationFailed
from renewer.logging import get_logger
from renewer.rotation import machine as m
from renewer.rotation.drive import DriveReport, Step, describe, drive
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
    or override target constructors by type (how the static-secret target
    is bound to a store).
    """
    store = RotationStore(config.state_dir)
    selected = [spec for spec in config.rotations if not only or spec.name in only]
    results: list[ItemResult] = []
    for spec in selected:
        results.append(
            _one(
                spec,
                config,
                env,
                store,
                now=now,
                force=force,
                rollback=rollback,
                factories=factories,
            )
        )
        on_result(results[-1])
    if results:
        _report(results, dry_run=env.dry_run)
    return results


def _one(
    spec: RotationSpec,
    config: Config,
    env: TokenEnv,
    store: RotationStore,
    *,
    now: float,
    force: bool,
    rollback: bool,
    factories: Mapping[str, TargetFactory] | None,
) -> ItemResult:
    log = get_logger()
    noted = len(env.notes)
    try:
        return _drive_one(
            spec, config, env, store, now=now, force=force, rollback=rollback, factories=factories
        )
    except RenewerError as error:
        return _failure(spec, error)
    finally:
        for note in env.notes[noted:]:
            log.warning("rotation.note", item=spec.name, kind="rotation", summary=note)


def _drive_one(
    spec: RotationSpec,
    config: Config,
    env: TokenEnv,
    store: RotationStore,
    *,
    now: float,
    force: bool,
    rollback: bool,
    factories: Mapping[str, TargetFactory] | None,
) -> ItemResult:
    log = get_logger()
    state = _load(spec, store, now=now, dry_run=env.dry_run)
    factory = {**FACTORIES, **(factories or {})}.get(spec.type.value)
    if factory is None:
        raise RotationBlocked(f"no rotation target for type {spec.type.value!r}")
    target = factory(spec, config, env)
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
        persist=(lambda _: None) if env.dry_run else store.save,
        now=now,
        grace=spec.grace,
        due_at=lambda current: next_due_at(spec, current),
        forced=force,
        rollback=rollback,
        dry_run=env.dry_run,
        on_step=on_step,
    )
    return _result(spec, target, report, now=now, dry_run=env.dry_run)


def _load(
    spec: RotationSpec, store: RotationStore, *, now: float, dry_run: bool
) -> m.RotationState:
    """The recorded state; a new one (recorded at once: its anchor starts the schedule)."""
    state = store.load(spec.name)
    if state is not None and state.target != spec.type.value:
        if state.in_flight or state.phase is m.Phase.GREEN_ACTIVE:
            raise RotationBlocked(
                f"rotation {spec.name!r} is a {spec.type.value} rotation in the config but its "
                f"state records a {state.target} cycle in flight ({state.phase.value})",
                hint=f"put the old type back until `renewer rotation status` shows "
                f"{m.Phase.BLUE_ACTIVE.value}, or see the runbook",
            )
        state = replace(state, target=spec.type.value, blue="", green="")
    if state is None:
        state = m.new_state(spec.name, spec.type.value, now=now)
        if not dry_run:
            store.save(state)
    return state


def _details(spec: RotationSpec, state: m.RotationState, **extra: Detail) -> dict[str, Detail]:
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


def _result(
    spec: RotationSpec, target: Target, report: DriveReport, *, now: float, dry_run: bool
) -> ItemResult:
    final, noun = report.final, target.noun
    details = _details(spec, final)
    name = spec.name
    if dry_run:
        outcome = Outcome.UNCHANGED if isinstance(report.stopped, m.Wait) else Outcome.OK
        due = details["next_due_at"] or "never (by hand only)"
        summary = f"PLAN {name}: would {describe(report.stopped, noun)}; next due {due}"
        return ItemResult("rotation", name, outcome, "rotation.plan", summary, details)
    error: RenewerError
    if report.validation_failure:
        error = RotationFailed(
            f"VALIDATION FAILED {name}: the new {noun} did not work "
            f"({report.validation_failure}); it was revoked and {final.blue or 'the old one'} "
            "stays active",
            hint=f"fix the cause, then: renewer rotate {name} --now",
        )
        return _failure(spec, error, details=details, event="rotation.validation_failed")
    if report.issue_refusal:
        error = RotationBlocked(
            f"REFUSED {name}: Vault would not issue a new {noun} ({report.issue_refusal}); "
            "nothing was created, the old one stays active",
            hint=f"check the authority's policies, then: renewer rotate {name} --now",
        )
        return _failure(spec, error, details=details, event="rotation.issue_refused")
    if isinstance(report.stopped, m.Refuse):
        return _refused(spec, report.stopped, details)
    return _progress(spec, report, details, noun=noun, now=now)


def _refused(spec: RotationSpec, refusal: m.Refuse, details: dict[str, Detail]) -> ItemResult:
    if refusal.needs_human:
        error = RotationBlocked(
            f"BLOCKED {spec.name}: {refusal.reason}; renewer changed nothing",
            hint=f"see the runbook section for phase {details['phase']}; "
            f"renewer rotation status shows where it stands",
        )
        return _failure(spec, error, details=details, event="rotation.blocked")
    summary = (
        f"SKIPPED {spec.name}: due, but {refusal.reason}; the token step heals it first "
        f"(renewer run --only {spec.token}), the rotation follows"
    )
    return ItemResult("rotation", spec.name, Outcome.WARNING, "rotation.skipped", summary, details)


def _progress(
    spec: RotationSpec, report: DriveReport, details: dict[str, Detail], *, noun: str, now: float
) -> ItemResult:
    final, name = report.final, spec.name
    if final.last_result is m.LastResult.ROLLED_BACK and report.did("rotation.green_discarded"):
        summary = f"ROLLED BACK {name}: {final.blue or 'the old ' + noun} is active again"
        return ItemResult("rotation", name, Outcome.OK, "rotation.rolled_back", summary, details)
    if report.did("rotation.promoted"):
        promoted = next(s for s in report.steps if s.event == "rotation.promoted")
        green, blue = promoted.details["green"], promoted.details["blue"]
        if report.did("rotation.blue_revoked") or not blue:
            after = f"; the old {noun} {blue} was revoked" if blue else ""
            summary = f"ROTATED {name}: new {noun} {green} active{after}"
        else:
            summary = (
                f"ROTATED {name}: new {noun} {green} active; the old {noun} {blue} stays valid "
                f"until {details['grace_ends_at']} (grace {format_duration(spec.grace)})"
            )
        return ItemResult("rotation", name, Outcome.OK, "rotation.rotated", summary, details)
    if report.did("rotation.blue_revoked"):
        summary = (
            f"COMPLETED {name}: the old {noun} was revoked after its grace; "
            f"{final.blue} is the only one"
        )
        return ItemResult("rotation", name, Outcome.OK, "rotation.completed", summary, details)
    if report.steps:
        what = "; ".join(step.summary for step in report.steps)
        summary = f"RECOVERED {name}: {what}"
        return ItemResult("rotation", name, Outcome.OK, "rotation.recovered", summary, details)
    return _unchanged(spec, report, details, now=now)


def _unchanged(
    spec: RotationSpec, report: DriveReport, details: dict[str, Detail], *, now: float
) -> ItemResult:
    final, name = report.final, spec.name
    wait = report.stopped
    if final.phase is m.Phase.GREEN_ACTIVE:
        summary = f"UNCHANGED {name}: in its grace period until {details['grace_ends_at']}"
        return ItemResult(
            "rotation", name, Outcome.UNCHANGED, "rotation.unchanged", summary, details
        )
    due = details["next_due_at"] or "never (by hand only: renewer rotate NAME --now)"
    if final.last_result.failed:
        summary = (
            f"UNCHANGED {name}: the last cycle failed at {as_iso(final.last_failed_at)} "
            f"({final.last_error}); the old credential is still active; retry at {due}"
        )
        return ItemResult("rotation", name, Outcome.WARNING, "rotation.unchanged", summary, details)
    reason = wait.reason if isinstance(wait, m.Wait) else "nothing to do"
    summary = f"UNCHANGED {name}: {reason}; next due {due}"
    return ItemResult("rotation", name, Outcome.UNCHANGED, "rotation.unchanged", summary, details)


def _failure(
    spec: RotationSpec,
    error: RenewerError,
    *,
    details: dict[str, Detail] | None = None,
    event: str = "rotation.failed",
) -> ItemResult:
    summary = error.message
    if event == "rotation.failed":
        summary = f"FAILED {spec.name}: {error.message}"
    if error.hint:
        summary += f"; {error.hint}"
    return ItemResult(
        kind="rotation",
        name=spec.name,
        outcome=outcome_for_exit_code(error.exit_code),
        event=event,
        summary=summary,
        details={**(details or {}), "error": error.message, "see": error.see},
    )


def _report(results: list[ItemResult], *, dry_run: bool) -> None:
    """One line per run: which credentials rotated and which were unchanged."""
    rotated = [r.name for r in results if r.event in {"rotation.rotated", "rotation.completed"}]
    unchanged = [r.name for r in results if r.event == "rotation.unchanged"]
    other = [r.name for r in results if r.name not in rotated and r.name not in unchanged]
    parts = [
        f"rotated: {', '.join(rotated) or 'none'}",
        f"unchanged: {', '.join(unchanged) or 'none'}",
    ]
    if other:
        parts.append(f"other: {', '.join(other)}")
    get_logger().info(
        "rotation.report",
        summary=("rotations (dry run): " if dry_run else "rotations: ") + "; ".join(parts),
        rotated=",".join(rotated),
        unchanged=",".join(unchanged),
    )
