"""``renewer notify``: the ``OnFailure=`` handler: retry a temporary failure, else report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from renewer.app import AppContext, pass_app
from renewer.core.retry import RetrySettings
from renewer.output import say

if TYPE_CHECKING:
    from renewer.core.retry import Retry


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
    """Handle a failed run: retry a temporary failure, else report it everywhere.

    Started by OnFailure= of renewer.service. After exit 75 (Vault or a
    service unreachable, lock busy) it arms one retry with backoff
    (renewer-retry@SECONDS.timer) and reports nothing, until run.retry's
    attempts are used up. Anything else is reported: it reads what the
    failed run recorded (never Vault) and what systemd says about the failed
    start, and sends the items that need a person on every channel: the
    journal at priority crit, a desktop notification when notify-send is on
    PATH, and a JSON POST to notify.webhook when configured. Prints one line
    per channel. Exit 0 when the retry was armed or at least one channel
    delivered, 1 when none did. Works with a broken config too (then the
    journal and desktop only). --test sends a notification that says it is a
    test, at normal urgency.
    """
    import os
    import random
    import socket
    import time

    from renewer.core.retry import Report, decide
    from renewer.logging import journal_sender
    from renewer.notify import build_report, notification_test_report, notify
    from renewer.state import load_state
    from renewer.systemd.retry import cancel_retries, failed_start

    if app.log_format is None and journal_sender()[0] is not None:
        app.log_format = "journal"  # by hand too: the point is the journal entry
    app.setup_logging()
    state_dir, webhook, timeout, retry, problems = _settings(app)
    host, now = socket.gethostname(), time.time()
    if send_test:
        report = notification_test_report(unit=unit, host=host, now=now)
    else:
        record = load_state(state_dir)
        failed = failed_start(os.environ if app.environ is None else app.environ)
        decision = decide(failed, record.last_run, retry, fraction=random.random())  # noqa: S311
        if not isinstance(decision, Report):
            problem = _arm_retry(unit, decision)
            if problem is None:
                return 0
            decision = Report((f"could not schedule a retry: {problem}",))
        elif failed is not None:
            cancel_retries()  # a person is told now; a pending retry would only repeat it
        report = build_report(
            record, unit=unit, host=host, now=now, problems=[*problems, *decision.notes]
        )
    deliveries = notify(report, webhook=webhook, timeout=timeout)
    for delivery in deliveries:
        say(delivery.line())
    return 0 if any(delivery.ok for delivery in deliveries) else 1


def _arm_retry(unit: str, retry: Retry) -> str | None:
    """Start the retry timer and say so (journal at info, and stdout); the problem if any."""
    from renewer.core.duration import format_ttl
    from renewer.logging import get_logger
    from renewer.systemd.retry import retry_unit, schedule_retry

    problem = schedule_retry(retry.delay)
    if problem is not None:
        return problem
    summary = (
        f"{unit} failed temporarily (exit 75); retry {retry.attempt} of {retry.of} "
        f"in {format_ttl(retry.delay)} ({retry_unit(retry.delay)})"
    )
    get_logger().info(
        "retry.scheduled",
        unit=unit,
        attempt=retry.attempt,
        attempts=retry.of,
        delay=retry.delay,
        summary=summary,
    )
    say(f"retry: {summary}")
    return None


def _settings(app: AppContext) -> tuple[Path, str | None, float, RetrySettings, list[str]]:
    """State dir, webhook, timeout, retry backoff, and problems; a broken config degrades.

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
        return state_dir, None, 10.0, RetrySettings(), [f"config: {error.message}"]
    notify = config.notify
    return config.state_dir, notify.webhook, float(notify.timeout), config.run.retry, []


COMMANDS = [notify_command]
