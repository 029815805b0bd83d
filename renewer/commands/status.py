"""``renewer status``: is everything healthy, and when does the timer run next?"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from renewer.app import AppContext, pass_app
from renewer.output import say


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    if seconds < 172800:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(timestamp))


def _in(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"in {seconds}s"
    if seconds < 7200:
        return f"in {seconds // 60}m"
    if seconds < 172800:
        return f"in {seconds // 3600}h {seconds % 3600 // 60}m"
    return f"in {seconds // 86400}d"


def _when(timestamp: float | None, now: float) -> str:
    """``2026-12-07 00:19:24Z (in 16h 30m)``, or ``never``."""
    if timestamp is None:
        return "never"
    relative = _in(timestamp - now) if timestamp >= now else _ago(now - timestamp)
    return f"{_iso(timestamp)} ({relative})"


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--brief", is_flag=True, help="One line when attention is needed, nothing when healthy."
)
@pass_app
def status_command(app: AppContext, as_json: bool, brief: bool) -> int:
    """Per token and credential: healthy?, TTL/expiry, last outcome; the timer.

    Reads what the last runs recorded and asks the user manager when the
    timer last ran and runs next; asks nothing of Vault. Attention is needed
    when an item's last outcome needs a person, an item will expire before
    the next scheduled run can renew it (tokens refreshed from a stored
    grant or key are renewed even after they expire), no run finished for
    two days, or the timer is not installed, enabled and running. Exit 0
    when healthy, 1 when attention is needed. --brief prints one line only
    then (for a login banner).
    """
    from renewer.core.health import check_attention
    from renewer.state import load_state
    from renewer.systemd import timer_status

    now = time.time()
    config = app.config
    record = load_state(config.state_dir)
    timer = timer_status(timeout=2.0 if brief else 3.0)
    interval = float(config.run.interval)
    next_run = scheduled_run(timer, record.last_run, interval=interval, now=now)
    attention = list(
        check_attention(
            record.items, record.last_run, now=now, next_run=next_run, interval=interval
        )
    )
    if record.problem:
        attention.insert(0, _attention("", record.problem))
    if timer is not None:
        attention.extend(_attention("", problem) for problem in timer.problems())
    if brief:
        if attention:
            first = attention[0]
            more = f" (+{len(attention) - 1} more)" if len(attention) > 1 else ""
            say(f"renewer: {first.item or 'renewer'}: {first.reason}{more} — run `renewer status`")
        return 1 if attention else 0
    if as_json:
        say(json.dumps(_as_json(record, attention, timer, now), indent=2, default=str))
    else:
        _print_human(record, attention, timer, now)
    return 1 if attention else 0


def scheduled_run(timer: Any, last_run: Any, *, interval: float, now: float) -> float:
    """When the next run happens: the user manager's (``list-timers``' moment, a pending
    retry included), else the last run plus *interval* (no user manager to ask)."""
    from renewer.core.health import next_run_at

    finished = last_run.get("finished_at") if isinstance(last_run, dict) else None
    return next_run_at(
        timer_next=timer.next_run_at if timer is not None else None,
        last_finished=finished if isinstance(finished, int | float) else None,
        interval=interval,
        now=now,
    )


def _attention(item: str, reason: str) -> Any:
    from renewer.core.health import Attention

    return Attention(item, reason)


def _as_json(record: Any, attention: list[Any], timer: Any, now: float) -> dict[str, Any]:
    items = []
    for key, item in sorted(record.items.items()):
        details = item.get("details") or {}
        expires_at = details.get("expires_at")
        items.append(
            {
                "key": key,
                "kind": item.get("kind"),
                "name": item.get("name"),
                "healthy": bool(item.get("healthy")) and not any(a.item == key for a in attention),
                "outcome": item.get("outcome"),
                "event": item.get("event"),
                "summary": item.get("summary"),
                "at": item.get("at"),
                "ttl_seconds": max(0, int(expires_at - now))
                if isinstance(expires_at, int | float)
                else None,
                "expires_at": expires_at,
                "details": details,
            }
        )
    return {
        "healthy": not attention,
        "attention": [{"item": a.item, "reason": a.reason} for a in attention],
        "last_run": record.last_run or None,
        "last_manual": record.last_manual or None,
        "heals_total": record.heals_total,
        "items": items,
        "timer": None if timer is None else _timer_json(timer),
    }


def _timer_json(timer: Any) -> dict[str, Any]:
    """The schedule as systemd has it; ``next_run_at`` includes a pending retry."""

    def iso(at: float | None) -> str | None:
        return None if at is None else _iso(at)

    return {
        "installed": timer.load == "loaded",
        "active": timer.active,
        "enabled": timer.enabled,
        "next_run": iso(timer.next_run_at),
        "next_run_at": timer.next_run_at,
        "timer_next_at": timer.timer_next_at,
        "last_run": iso(timer.last_run_at),
        "last_run_at": timer.last_run_at,
        "retry": None
        if timer.retry_at is None
        else {"unit": timer.retry_unit, "at": timer.retry_at, "when": iso(timer.retry_at)},
        "service": {"active": timer.service_active, "result": timer.service_result},
    }


def _print_human(record: Any, attention: list[Any], timer: Any, now: float) -> None:
    from renewer.core.duration import format_ttl

    last = record.last_run
    if last.get("finished_at"):
        say(
            f"last run: {_iso(last['finished_at'])} ({_ago(now - last['finished_at'])}), "
            f"exit {last.get('exit_code')}"
        )
    else:
        say("last run: never")
    manual = record.last_manual
    if isinstance(manual.get("at"), int | float) and manual["at"] >= last.get("finished_at", 0):
        say(
            f"since then: `{manual.get('command')}` at {_iso(manual['at'])} "
            f"({_ago(now - manual['at'])}), exit {manual.get('exit_code')}; the items below "
            "show its outcome"
        )
    for key, item in sorted(record.items.items()):
        details = item.get("details") or {}
        expires_at = details.get("expires_at")
        ttl = (
            f"ttl {format_ttl(int(expires_at - now))}"
            if isinstance(expires_at, int | float)
            else ""
        )
        mark = (
            "ok  " if item.get("healthy") and not any(a.item == key for a in attention) else "FAIL"
        )
        name = details.get("display_name", "")
        say(f"{mark}  {key:<24} {name:<24} {ttl:<14} {item.get('summary', '')}")
    say(_timer_line(timer, now))
    if timer is not None and timer.retry_at is not None:
        say(
            f"retry: {timer.retry_unit} at {_when(timer.retry_at, now)}, "
            "after a temporary failure (exit 75)"
        )
    for item in attention:
        say(f"attention: {item.item or 'renewer'}: {item.reason}")
    if not attention:
        say("healthy")


def _timer_line(timer: Any, now: float) -> str:
    """One plain line about the schedule; the problems themselves are attention items."""
    if timer is None:
        return "timer: unknown (no systemd user manager reachable from here)"
    if timer.load != "loaded":
        return "timer: NOT INSTALLED — nothing runs renewer daily"
    if timer.enabled not in {"enabled", "enabled-runtime"}:
        return f"timer: NOT ENABLED ({timer.enabled or 'unknown'}) — the daily run will not happen"
    if not timer.running:
        return "timer: enabled but NOT RUNNING — the daily run will not happen"
    upcoming = "not scheduled" if timer.timer_next_at is None else _when(timer.timer_next_at, now)
    return f"timer: enabled; last ran {_when(timer.last_run_at, now)}, next run {upcoming}"


COMMANDS = [status_command]
