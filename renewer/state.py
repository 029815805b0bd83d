"""What the last runs found, for ``renewer status`` and for Prometheus.

``state.json`` in the state dir keeps, per item, the last result of any run
that processed it (a ``--only`` run does not erase the others), when the
last run started and finished, its exit code, and a heal counter. It holds
no secrets: display names, accessors, TTLs and sentences only. It is written
atomically at the end of each real run (never by ``--dry-run``). Its strings
are made printable on the way in and again on the way out (a sentence may
quote a server; an older renewer or another program may have written the
file), so ``status --brief`` in a login banner never carries an escape
sequence (issue 20).

The optional node_exporter textfile (``metrics.textfile``) is derived from the
same record and written atomically with mode 0644 (node_exporter must read it).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renewer.core.outcome import ItemResult, Outcome
from renewer.core.printable import printable_data
from renewer.core.retry import next_streak
from renewer.errors import StateUntrusted, StateUnwritable
from renewer.files import ensure_trusted_dir, require_trusted, write_atomic

STATE_NAME = "state.json"
STATE_VERSION = 1
MAX_STATE_BYTES = 8 << 20  # thousands of items; a larger file is not ours


@dataclass
class RunRecord:
    """The state file's content, as plain data."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_run: dict[str, Any] = field(default_factory=dict)
    last_manual: dict[str, Any] = field(default_factory=dict)  # the last `renewer mint`
    heals_total: int = 0
    problem: str = ""  # why the file could not be read, if it could not


def item_key(kind: str, name: str) -> str:
    return f"{kind}/{name}"


def load_state(state_dir: Path) -> RunRecord:
    """The recorded state; an unreadable file yields an empty record with ``problem`` set."""
    path = state_dir / STATE_NAME
    try:
        require_trusted(state_dir, what="state dir")
        require_trusted(path, what="state file")
    except StateUntrusted as exc:  # another user's text must not reach the login banner
        return RunRecord(problem=f"{exc} (fix: {exc.hint})")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_STATE_BYTES + 1)
        if len(raw) > MAX_STATE_BYTES:
            return RunRecord(problem=f"{path}: larger than {MAX_STATE_BYTES} bytes; not ours")
        document = json.loads(raw)
    except FileNotFoundError:
        return RunRecord()
    except (OSError, ValueError, RecursionError) as exc:
        return RunRecord(problem=f"{path}: unreadable ({exc})")
    if not isinstance(document, dict) or document.get("version") != STATE_VERSION:
        return RunRecord(problem=f"{path}: unknown format")
    items = document.get("items")
    last_run = document.get("last_run")
    last_manual = document.get("last_manual")
    heals = document.get("heals_total")
    return RunRecord(
        items=printable_data(items) if isinstance(items, dict) else {},
        last_run=printable_data(last_run) if isinstance(last_run, dict) else {},
        last_manual=printable_data(last_manual) if isinstance(last_manual, dict) else {},
        heals_total=heals if isinstance(heals, int) and not isinstance(heals, bool) else 0,
    )


# Kinds of items a config lists; one no longer configured leaves the record.
CONFIGURED_KINDS = frozenset({"token", "credential", "rotation"})


def record_run(
    state_dir: Path,
    results: Iterable[ItemResult],
    *,
    started_at: float,
    finished_at: float,
    exit_code: int,
    invocation: str = "",
    configured: Collection[str] | None = None,
) -> RunRecord:
    """Merge this run's results into the state file and return the new record.

    *invocation* is systemd's ``$INVOCATION_ID`` of the run (empty by hand): the
    ``OnFailure=`` handler compares it with the failed start's to know whether
    this record explains that failure. ``temporary_streak`` counts consecutive
    exit-75 runs, the retry backoff's attempt number (renewer.core.retry).

    *configured* holds the keys (``credential/NAME``...) of every item the
    config has now; an item of those kinds that is not among them was removed
    from the config, and its last outcome would haunt ``status`` forever.
    """
    record = load_state(state_dir)
    if configured is not None:
        record.items = {
            key: item
            for key, item in record.items.items()
            if key in configured or item.get("kind") not in CONFIGURED_KINDS
        }
    _merge(record, results, at=finished_at)
    record.last_run = {
        "started_at": started_at,
        "finished_at": finished_at,
        "exit_code": exit_code,
        "temporary_streak": next_streak(record.last_run, exit_code),
    }
    if invocation:
        record.last_run["invocation"] = invocation
    _save(state_dir, record)
    return record


def record_items(
    state_dir: Path,
    results: Iterable[ItemResult],
    *,
    at: float,
    command: str = "",
    exit_code: int | None = None,
) -> RunRecord:
    """Merge results of a command that is not a run (``renewer mint``): items, and the command.

    ``last_run`` stays as it was, so a manual recovery never hides a timer that
    stopped running; but ``status`` shows the item's latest outcome, not the
    failure that the recovery just repaired, and says which command ran since
    the last run (``last_manual``), so "last run … exit 1" is not followed by an
    unexplained "healthy".
    """
    record = load_state(state_dir)
    _merge(record, results, at=at)
    if command:
        record.last_manual = {"command": command, "at": at, "exit_code": exit_code}
    _save(state_dir, record)
    return record


def _merge(record: RunRecord, results: Iterable[ItemResult], *, at: float) -> None:
    for result in results:
        record.items[item_key(result.kind, result.name)] = printable_data(
            {
                "kind": result.kind,
                "name": result.name,
                "outcome": result.outcome.name,
                "healthy": result.outcome.healthy,
                "event": result.event,
                "summary": result.summary,
                "at": at,
                "details": dict(result.details),
            }
        )
        if result.event == "token.healed":
            record.heals_total += 1


def _save(state_dir: Path, record: RunRecord) -> None:
    document = {
        "version": STATE_VERSION,
        "last_run": record.last_run,
        "last_manual": record.last_manual,
        "heals_total": record.heals_total,
        "items": record.items,
    }
    try:
        ensure_trusted_dir(state_dir)
        write_atomic(
            state_dir / STATE_NAME, (json.dumps(document, indent=2, default=str) + "\n").encode()
        )
    except OSError as exc:
        raise StateUnwritable(
            f"cannot record the run in {state_dir / STATE_NAME}: {exc.strerror or exc} "
            "(the items above were processed; `renewer status` will not show them)",
            hint=f"free space or fix the permissions of {state_dir}, then run again",
        ) from None


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(record: RunRecord, *, now: float) -> str:
    """The textfile-collector exposition of *record*."""
    lines = [
        "# HELP renewer_token_ttl_seconds Seconds left on a sink's token at the last run.",
        "# TYPE renewer_token_ttl_seconds gauge",
    ]
    for item in record.items.values():
        if item.get("kind") != "token":
            continue
        expires_at = (item.get("details") or {}).get("expires_at")
        ttl = max(0.0, float(expires_at) - now) if isinstance(expires_at, int | float) else 0.0
        lines.append(f'renewer_token_ttl_seconds{{name="{_label(str(item["name"]))}"}} {ttl:.0f}')
    lines += [
        "# HELP renewer_item_healthy 1 when the item's last outcome needs no human.",
        "# TYPE renewer_item_healthy gauge",
    ]
    for item in record.items.values():
        healthy = 1 if item.get("healthy") else 0
        kind, name = _label(str(item.get("kind"))), _label(str(item.get("name")))
        lines.append(f'renewer_item_healthy{{kind="{kind}",name="{name}"}} {healthy}')
    finished = record.last_run.get("finished_at", 0)
    success = 1 if record.last_run.get("exit_code") == 0 else 0
    lines += [
        "# HELP renewer_last_run_timestamp_seconds When the last run finished.",
        "# TYPE renewer_last_run_timestamp_seconds gauge",
        f"renewer_last_run_timestamp_seconds {float(finished):.0f}",
        "# HELP renewer_last_run_success 1 when the last run exited 0.",
        "# TYPE renewer_last_run_success gauge",
        f"renewer_last_run_success {success}",
        "# HELP renewer_heals_total Heals performed since the state dir was created.",
        "# TYPE renewer_heals_total counter",
        f"renewer_heals_total {record.heals_total}",
    ]
    return "\n".join(lines) + "\n"


def write_textfile(path: Path, record: RunRecord, *, now: float) -> None:
    """Write the Prometheus textfile atomically (0644: node_exporter reads it)."""
    write_atomic(path, prometheus_text(record, now=now).encode(), mode=0o644)


def outcome_of(item: dict[str, Any]) -> Outcome:
    try:
        return Outcome[str(item.get("outcome"))]
    except KeyError:
        return Outcome.NEEDS_HUMAN
