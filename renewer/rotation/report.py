"""What one rotation's run did, in one honest sentence; and the line that closes a run.

Pure apart from the closing log line. The sentence is told from the steps
the drive took, in their order, because one run can end one cycle and start
the next: "completed the previous cycle (withdrew W); rotated: new token Y
active, X stays valid until T". Nothing is claimed that did not happen in
this run: a token in its grace is never called revoked, and a cycle counts
as *rotated* in the run that promoted it and as *completed* in the run that
withdrew its old credential.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from renewer.config import RotationSpec, RotationType
from renewer.core.duration import format_duration
from renewer.core.outcome import Detail, ItemResult, Outcome
from renewer.errors import RotationBlocked, RotationFailed, RotationHookFailed
from renewer.logging import get_logger
from renewer.rotation import machine as m
from renewer.rotation import plan as p
from renewer.rotation.drive import DriveReport, Step
from renewer.rotation.notes import failure_reason
from renewer.rotation.schedule import as_iso

CATEGORIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("rotated", frozenset({"rotation.rotated"})),
    ("completed", frozenset({"rotation.completed"})),
    ("rolled back", frozenset({"rotation.rolled_back"})),
    ("recovered", frozenset({"rotation.recovered"})),
    (
        "failed",
        frozenset(
            {
                "rotation.validation_failed",
                "rotation.hook_failed",
                "rotation.issue_refused",
                "rotation.blocked",
                "rotation.failed",
            }
        ),
    ),
    ("skipped", frozenset({"rotation.skipped"})),
    ("unchanged", frozenset({"rotation.unchanged", "rotation.plan"})),
)
"""The closing line's groups, in order; each result is in exactly one."""


def by_hand(name: str) -> str:
    """The due time of a rotation without a schedule: the command that runs it."""
    return f"never (by hand only: renewer rotate {name} --now)"


def summarize(spec: RotationSpec, noun: str, report: DriveReport) -> tuple[str, str, Outcome]:
    """(event, summary, outcome) for a drive that ended without an error (not a dry run)."""
    name, final = spec.name, report.final
    if report.validation_failure:
        return (
            "rotation.validation_failed",
            f"VALIDATION FAILED {name}: the new {noun} did not work "
            f"({report.validation_failure}); it was withdrawn and "
            f"{_old(final.blue, noun)} stays active; fix the cause, then: "
            f"renewer rotate {name} --now",
            Outcome.NEEDS_HUMAN,
        )
    if report.hook_failure:
        return (
            "rotation.hook_failed",
            f"HOOK FAILED {name}: the new {noun} could not be applied ({report.hook_failure}); "
            f"it was withdrawn and {_old(final.blue, noun)} stays active; fix the hook, then: "
            f"renewer rotate {name} --now",
            Outcome.NEEDS_HUMAN,
        )
    if report.issue_refusal:
        issuer = (
            "the store would not take"
            if spec.type is RotationType.STATIC
            else "Vault would not issue"
        )
        return (
            "rotation.issue_refused",
            f"REFUSED {name}: {issuer} a new {noun} ({report.issue_refusal}); "
            f"nothing was created, {_old(final.blue, noun)} stays active; "
            + (
                "fix the store"
                if spec.type is RotationType.STATIC
                else "check the authority's policies"
            )
            + f", then: renewer rotate {name} --now",
            Outcome.NEEDS_HUMAN,
        )
    return _progress(spec, noun, report)


def _old(blue: str, noun: str) -> str:
    return f"the old {noun} {blue}" if blue else f"the old {noun}"


def _progress(spec: RotationSpec, noun: str, report: DriveReport) -> tuple[str, str, Outcome]:
    name, final = spec.name, report.final
    completed = report.step("rotation.blue_revoked")
    promoted = report.step("rotation.promoted")
    if final.last_result is m.LastResult.ROLLED_BACK and report.did("rotation.green_discarded"):
        return (
            "rotation.rolled_back",
            f"ROLLED BACK {name}: {_old(final.blue, noun)} is active again; the new one "
            "was withdrawn",
            Outcome.OK,
        )
    if promoted is not None:
        before = f"{_completion(completed, noun)}; then " if completed is not None else ""
        return (
            "rotation.rotated",
            f"ROTATED {name}: {before}{_promotion(promoted, final, spec, noun)}",
            Outcome.OK,
        )
    if completed is not None:
        return "rotation.completed", f"COMPLETED {name}: {_completion(completed, noun)}", Outcome.OK
    if report.steps:
        what = "; ".join(step.summary for step in report.steps)
        return "rotation.recovered", f"RECOVERED {name}: {what}", Outcome.OK
    return _unchanged(spec, report)


def _completion(step: Step, noun: str) -> str:
    """A cycle's end: its old credential withdrawn, and what the sink holds now."""
    blue, green, successor = step.details["blue"], step.details["green"], step.details["successor"]
    verb = "withdrew" if step.details.get("withdrawn_now") == "yes" else "found already gone"
    text = f"{verb} the old {noun} {blue} after its grace"
    if successor and successor == green:
        return f"{text}; {green} is the only one"
    if successor:
        return (
            f"{text}; the sink holds {successor}, not the cycle's new {noun} {green or '?'} "
            "(something replaced it during the grace)"
        )
    return f"{text}; the sink holds no usable {noun} now"


def _promotion(step: Step, final: m.RotationState, spec: RotationSpec, noun: str) -> str:
    green, blue = step.details["green"], step.details["blue"]
    if not blue:
        return f"new {noun} {green} active (there was none before)"
    until = as_iso(final.grace_ends_at) if final.green == green else None
    validity = f"until {until} " if until else ""
    return (
        f"new {noun} {green} active; the old {noun} {blue} stays valid {validity}"
        f"(grace {format_duration(spec.grace)})"
    )


def _unchanged(spec: RotationSpec, report: DriveReport) -> tuple[str, str, Outcome]:
    name, final = spec.name, report.final
    if final.phase is m.Phase.GREEN_ACTIVE:
        return (
            "rotation.unchanged",
            f"UNCHANGED {name}: in its grace period until {as_iso(final.grace_ends_at)}",
            Outcome.UNCHANGED,
        )
    due = _due(spec, report)
    if final.last_result.failed:
        return (
            "rotation.unchanged",
            f"UNCHANGED {name}: the last cycle failed at {as_iso(final.last_failed_at)} "
            f"({failure_reason(final)}); the old credential is still active; "
            + (
                f"retry by hand: renewer rotate {name} --now"
                if spec.schedule.by_hand
                else f"retry at {due}"
            ),
            Outcome.WARNING,
        )
    stopped = report.stopped
    reason = stopped.reason if isinstance(stopped, p.Wait) else "nothing to do"
    return "rotation.unchanged", f"UNCHANGED {name}: {reason}; next due {due}", Outcome.UNCHANGED


def _due(spec: RotationSpec, report: DriveReport) -> str:
    stopped = report.stopped
    until = stopped.until if isinstance(stopped, p.Wait) else None
    return as_iso(until, spec.schedule.timezone) or by_hand(spec.name)


def refused(spec: RotationSpec, refusal: p.Refuse, *, phase: str) -> tuple[str, str, Outcome]:
    """A refusal: a person must look (BLOCKED), or another step must repair first (SKIPPED)."""
    if refusal.needs_human:
        error = RotationBlocked(
            f"BLOCKED {spec.name}: {refusal.reason}; renewer changed nothing",
            hint=f"see the runbook section for phase {phase}; "
            "renewer rotation status shows where it stands",
        )
        return "rotation.blocked", f"{error.message}; {error.hint}", Outcome.NEEDS_HUMAN
    if spec.type is RotationType.STATIC:
        repair = f"store the current value first (renewer creds set {spec.credential})"
    else:
        repair = f"the token step heals it first (renewer run --only {spec.token})"
    return (
        "rotation.skipped",
        f"SKIPPED {spec.name}: due, but {refusal.reason}; {repair}, the rotation follows",
        Outcome.WARNING,
    )


def plan_summary(spec: RotationSpec, noun: str, report: DriveReport, due: str | None) -> str:
    """``--dry-run``: what a real run would do now."""
    stopped = report.stopped
    if isinstance(stopped, p.Wait):
        what = p.describe(stopped, noun)
    elif isinstance(stopped, p.Refuse):
        what = f"would stop: {stopped.reason}"
    else:
        what = f"would {p.describe(stopped, noun)}"
    return f"PLAN {spec.name}: {what}; next due {due or by_hand(spec.name)}"


def see(event: str) -> str:
    """The runbook anchor of a failed result."""
    error = {
        "rotation.validation_failed": RotationFailed,
        "rotation.hook_failed": RotationHookFailed,
    }.get(event, RotationBlocked)
    return f"runbooks/{error.runbook}#{error.reference}"


def close_run(results: Sequence[ItemResult], *, dry_run: bool) -> None:
    """One line per run: which credentials rotated, completed, failed, stayed unchanged."""
    groups: dict[str, list[str]] = {label: [] for label, _ in CATEGORIES}
    for result in results:
        label = next((label for label, events in CATEGORIES if result.event in events), "failed")
        groups[label].append(result.name)
    parts = [f"rotated: {', '.join(groups['rotated']) or 'none'}"]
    parts += [
        f"{label}: {', '.join(names)}"
        for label, names in groups.items()
        if names and label != "rotated"
    ]
    fields: Mapping[str, Detail] = {
        label.replace(" ", "_"): ",".join(names) for label, names in groups.items()
    }
    get_logger().info(
        "rotation.report",
        summary=("rotations (dry run): " if dry_run else "rotations: ") + "; ".join(parts),
        **fields,
    )
