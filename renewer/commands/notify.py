"""``renewer notify``: report a failed run (started by ``OnFailure=``)."""

from __future__ import annotations

from pathlib import Path

import click

from renewer.app import AppContext, pass_app


@click.command("notify")
@click.option(
    "--unit",
    default="renewer.service",
    show_default=True,
    help="The unit that failed (renewer-notify@.service passes its instance name).",
)
@click.option(
    "--test",
    "send_test",
    is_flag=True,
    help="Send a test notification (nothing failed) to check every channel.",
)
@pass_app
def notify_command(app: AppContext, unit: str, send_test: bool) -> int:
    """Report a failed run: journald (crit), desktop (notify-send), webhook.

    Reads what the failed run recorded (never Vault) and sends the items that
    need a person, with their summaries, on every channel available: the
    journal at priority crit, a desktop notification when notify-send is on
    PATH, and a JSON POST to notify.webhook when configured. Prints one line
    per channel. Exit 0 when at least one channel delivered, 1 when none did.
    Works with a broken config too (then the journal and desktop only).
    --test sends a notification that says it is a test, at normal urgency.
    """
    import socket
    import time

    from renewer.logging import journal_sender
    from renewer.notify import build_report, notification_test_report, notify
    from renewer.state import load_state

    if app.log_format is None and journal_sender()[0] is not None:
        app.log_format = "journal"  # by hand too: the point is the journal entry
    app.setup_logging()
    state_dir, webhook, timeout, problems = _settings(app)
    host, now = socket.gethostname(), time.time()
    if send_test:
        report = notification_test_report(unit=unit, host=host, now=now)
    else:
        report = build_report(
            load_state(state_dir), unit=unit, host=host, now=now, problems=problems
        )
    deliveries = notify(report, webhook=webhook, timeout=timeout)
    for delivery in deliveries:
        click.echo(delivery.line())
    return 0 if any(delivery.ok for delivery in deliveries) else 1


def _settings(app: AppContext) -> tuple[Path, str | None, float, list[str]]:
    """State dir, webhook, timeout, and problems; a broken config degrades, never stops.

    The failure being reported may be the config itself: then the default state
    dir is read and only the journal and the desktop are used.
    """
    import os

    from renewer.config import xdg_dir
    from renewer.errors import RenewerError

    try:
        config = app.config
    except RenewerError as error:
        environ = os.environ if app.environ is None else app.environ
        state_dir = xdg_dir(environ, "XDG_STATE_HOME", ".local/state")
        return state_dir, None, 10.0, [f"config: {error.message}"]
    return config.state_dir, config.notify.webhook, float(config.notify.timeout), []


COMMANDS = [notify_command]
