"""``renewer status``: is everything healthy, and when does the timer run next?"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from renewer.app import AppContext, pass_app


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


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--brief", is_flag=True, help="One line when attention is needed, nothing when healthy."
)
@pass_app
def status_command(app: AppContext, as_json: bool, brief: bool) -> int:
    """Per token and credential: healthy?, TTL/expiry, last outcome; the timer.

    Reads what the last runs recorded; asks nothing of Vault. Exit 0 when
    healthy, 1 when attention is needed.
    """
    from renewer.core.health import check_attention
    from renewer.state import load_state

    now = time.time()
    record = load_state(app.config.state_dir)
    attention = list(check_attention(record.items, record.last_run, now=now))
    if record.problem:
        attention.insert(0, _attention("", record.problem))
    if brief:
        if attention:
            first = attention[0]
            more = f" (+{len(attention) - 1} more)" if len(attention) > 1 else ""
            click.echo(
                f"renewer: {first.item or 'renewer'}: {first.reason}{more} — run `renewer status`"
            )
        return 1 if attention else 0
    from renewer.systemd import timer_status

    timer = timer_status()
    if as_json:
        click.echo(json.dumps(_as_json(record, attention, timer, now), indent=2, default=str))
    else:
        _print_human(record, attention, timer, now)
    return 1 if attention else 0


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
        "heals_total": record.heals_total,
        "items": items,
        "timer": None
        if timer is None
        else {
            "active": timer.active,
            "enabled": timer.enabled,
            "next_run": timer.next_run,
            "last_run": timer.last_run,
        },
    }


def _print_human(record: Any, attention: list[Any], timer: Any, now: float) -> None:
    from renewer.core.duration import format_ttl

    last = record.last_run
    if last.get("finished_at"):
        click.echo(
            f"last run: {_iso(last['finished_at'])} ({_ago(now - last['finished_at'])}), "
            f"exit {last.get('exit_code')}"
        )
    else:
        click.echo("last run: never")
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
        click.echo(f"{mark}  {key:<24} {name:<24} {ttl:<14} {item.get('summary', '')}")
    if timer is None:
        click.echo("timer: unknown (no systemd user manager reachable)")
    elif timer.enabled != "enabled":
        click.echo("timer: NOT ENABLED — systemctl --user enable --now renewer.timer")
    else:
        click.echo(
            f"timer: {timer.active}, next run {timer.next_run or '?'}, "
            f"last {timer.last_run or 'never'}"
        )
    for item in attention:
        click.echo(f"attention: {item.item or 'renewer'}: {item.reason}")
    if not attention:
        click.echo("healthy")


COMMANDS = [status_command]
