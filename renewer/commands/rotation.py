"""``renewer rotate NAME`` and ``renewer rotation status``: blue/green rotation by hand."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from renewer.app import AppContext, pass_app
from renewer.output import say


@click.command("rotate")
@click.argument("name")
@click.option("--now", "now_flag", is_flag=True, help="Start a cycle even if it is not due.")
@click.option(
    "--dry-run", is_flag=True, help="Print the next step and when it is due; change nothing."
)
@click.option(
    "--rollback",
    is_flag=True,
    help="Abandon the cycle in flight: put the old credential back (during the grace) and "
    "revoke the new one.",
)
@pass_app
def rotate_command(
    app: AppContext, name: str, now_flag: bool, dry_run: bool, rollback: bool
) -> int:
    """Rotate NAME's credential blue/green, or resume the cycle in flight.

    Without --now, a cycle starts only when the schedule says it is due; a
    cycle already in flight is always resumed (never a second one). Exit 0
    when fine, 1 when validation failed or a person must look (the old
    credential stays active), 75 when Vault was unreachable.
    """
    if now_flag and rollback:
        raise click.UsageError("--now and --rollback contradict each other")
    from renewer.core.outcome import exit_code
    from renewer.lock import run_lock
    from renewer.rotation.runner import run_rotations
    from renewer.run import Runtime, clean_leftovers, log_result, token_env
    from renewer.state import record_items

    app.setup_logging()
    config = app.config
    config.rotation(name)
    runtime = Runtime()
    with run_lock(config.state_dir, timeout=config.run.lock_timeout):
        if not dry_run:
            clean_leftovers(config)  # a crashed rotate's temp files (a kept token among them)
        with token_env(config, runtime, dry_run=dry_run) as env:
            results = run_rotations(
                config,
                env=env,
                now=runtime.wall_clock(),
                only=[name],
                force=now_flag,
                rollback=rollback,
                on_result=log_result,
            )
        if not dry_run:
            # `renewer status` and the login banner show what this rotate did, as after a run.
            record_items(config.state_dir, results, at=runtime.wall_clock())
    return exit_code(results)


@click.group("rotation")
def rotation_group() -> None:
    """Blue/green rotations: where each one stands."""


@rotation_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def rotation_status_command(app: AppContext, as_json: bool) -> int:
    """Per rotation: phase, since when, grace end, next due, last result.

    Reads the rotation state files; asks nothing of Vault. Exit 0 when every
    rotation is fine, 1 when one needs a look (its last cycle failed, it is
    stuck mid-phase, or its state file cannot be read).
    """
    rows = rotation_rows(app, now=time.time())
    if as_json:
        healthy = not any(row["attention"] for row in rows)
        say(json.dumps({"healthy": healthy, "rotations": rows}, indent=2))
    else:
        _print_rows(rows)
    return 1 if any(row["attention"] for row in rows) else 0


def rotation_rows(app: AppContext, *, now: float) -> list[dict[str, Any]]:
    """One plain dict per configured rotation (no secrets: identifiers and times)."""
    from renewer.errors import RotationStateInvalid
    from renewer.rotation.machine import new_state
    from renewer.rotation.notes import attention
    from renewer.rotation.runner import next_due_at
    from renewer.rotation.schedule import as_iso
    from renewer.rotation.store import RotationStore

    config = app.config
    store = RotationStore(config.state_dir)
    rows: list[dict[str, Any]] = []
    for spec in config.rotations:
        row: dict[str, Any] = {
            "name": spec.name,
            "type": spec.type.value,
            "schedule": spec.schedule.describe(spec.name),
            "attention": "",
        }
        try:
            state = store.load(spec.name)
        except RotationStateInvalid as error:
            row.update(phase=None, attention=error.message, see=error.see)
            rows.append(row)
            continue
        recorded = state is not None
        state = state or new_state(spec.name, spec.type.value, now=now)
        due = next_due_at(spec, state)
        row.update(
            phase=state.phase.value if recorded else "never run",
            since=as_iso(state.since) if recorded else None,
            blue=state.blue or None,
            green=state.green or None,
            grace_ends_at=as_iso(state.grace_ends_at),
            next_due_at=as_iso(due, spec.schedule.timezone),
            due_now=due is not None and due <= now and not state.in_cycle,
            cycle_started_at=as_iso(state.last_started_at) if state.in_cycle else None,
            last_result=state.last_result.value,
            last_error=state.last_error or None,
            last_completed_at=as_iso(state.last_completed_at),
            run_error=state.run_error or None,
            cycles=state.cycles,
            attention=attention(state, now=now),
        )
        rows.append(row)
    return rows


def _print_rows(rows: list[dict[str, Any]]) -> None:
    if not rows:
        say("no rotations configured")
        return
    for row in rows:
        mark = "FAIL" if row["attention"] else "ok  "
        phase = row.get("phase") or "unreadable"
        parts = [f"{mark}  {row['name']:<20} {row['type']:<12} {phase:<17}"]
        if row.get("since"):
            parts.append(f"since {row['since']}")
        if row.get("cycle_started_at"):
            parts.append(f"cycle started {row['cycle_started_at']}")
        if row.get("grace_ends_at"):
            parts.append(f"grace ends {row['grace_ends_at']}")
        due = row.get("next_due_at")
        if due:
            parts.append(f"next due {due}" + (" (due now)" if row.get("due_now") else ""))
        else:
            parts.append("by hand only")
        if not row.get("cycle_started_at") and row.get("last_result") not in (None, "none"):
            parts.append(f"last: {row['last_result']}")
        say(f"{parts[0]} {', '.join(parts[1:])}")
        if row["attention"]:
            say(f"attention: {row['name']}: {row['attention']}")


COMMANDS = [rotate_command, rotation_group]
