"""``renewer notify``: report a failed run (started by ``OnFailure=``)."""

from __future__ import annotations

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
    import os
    import socket
    import time

    from renewer.config import xdg_dir
    from renewer.errors import RenewerError
    from renewer.logging import journal_sender
    from renewer.notify import build_report, notification_test_report, notify
    from renewer.state import load_state

    if app.log_format is None and journal_sender()[0] is not None:
        app.log_format = "journal"  # by hand too: the point is the journal entry
    app.setup_logging()
    problems: list[str] = []
    webhook: str | None = None
    timeout = 10.0
    try:
        config = app.config
        state_dir = config.state_dir
        webhook, timeout = config.notify.webhook, float(config.notify.timeout)
    except RenewerError as error:
        problems.append(f"config: {error.message}")
        environ = os.environ if app.environ is None else app.environ
        state_dir = xdg_dir(environ, "XDG_STATE_HOME", ".local/state")
    if send_test:
        report = notification_test_report(unit=unit, host=socket.gethostname(), now=time.time())
    else:
        report = build_report(
            load_state(state_dir),
            unit=unit,
            host=socket.gethostname(),
            now=time.time(),
            problems=problems,
        )
    deliveries = notify(report, webhook=webhook, timeout=timeout)
    for delivery in deliveries:
        click.echo(delivery.line())
    return 0 if any(delivery.ok for delivery in deliveries) else 1


COMMANDS = [notify_command]
