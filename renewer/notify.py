"""Failure notification for ``OnFailure=``: say what failed on every channel there is.

``renewer notify`` runs when renewer.service has failed. It reads what the
failed run recorded in ``state.json`` (it never asks Vault), builds one
:class:`FailureReport`, and sends it on three channels, each independent of
the others:

* **journald** at priority ``crit``, through the same structlog chain as every
  other event (``RENEWER_EVENT=renewer.failed``). When journald cannot be
  reached the event goes to stderr as JSON, which under systemd is the journal
  too;
* a **desktop notification** when ``notify-send`` is on PATH;
* a **webhook** POST of JSON when ``notify.webhook`` is configured, with a
  bounded timeout and no redirects.

Rules:

* No secret reaches a channel. The state holds summaries, display names and
  accessors only, and every text is scrubbed anyway. The webhook URL may itself
  hold a credential (Slack-style URLs do), so it is registered as a secret and
  only its scheme and host are ever printed.
* A channel that fails is logged and does not stop the others. ``notify`` exits
  0 when at least one channel delivered, 1 when none did.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from renewer import __version__
from renewer.childenv import child_env
from renewer.core.health import DEFAULT_INTERVAL, check_attention, next_run_at
from renewer.logging import get_logger, journal_active
from renewer.redact import register, scrub
from renewer.state import RunRecord

EVENT = "renewer.failed"
TEST_EVENT = "renewer.notify_test"
RUNBOOK = "runbooks/token-renewer.md#health-check"
DESKTOP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class FailedItem:
    """One item that needs a person, as the last run recorded it."""

    key: str  # "token/devvm"
    kind: str
    name: str
    event: str
    summary: str
    see: str = ""  # the runbook anchor the failure recorded, e.g. ...#drift-heal-denied


@dataclass(frozen=True, slots=True)
class FailureReport:
    """What a failed run left behind, in words fit for every channel."""

    host: str
    unit: str
    items: tuple[FailedItem, ...]
    notes: tuple[str, ...]  # reasons not tied to an item
    timestamp: float
    test: bool = False  # `renewer notify --test`: nothing failed

    @property
    def title(self) -> str:
        if self.test:
            return f"test notification for {self.unit} on {self.host}"
        return f"{self.unit} failed on {self.host}"

    def lines(self) -> list[str]:
        """One line per item, then the notes."""
        return [
            f"{item.key}: {item.summary}" + (f" (see {item.see})" if item.see else "")
            for item in self.items
        ] + list(self.notes)

    def message(self) -> str:
        """The journal's MESSAGE: one sentence with everything a reader needs first."""
        return scrub(
            f"{self.title}: {'; '.join(self.lines())}. Run `renewer status`; see {RUNBOOK}"
        )

    def body(self) -> dict[str, Any]:
        """The webhook's JSON body (``text`` makes it a valid Slack-style message too)."""
        return {
            "text": self.message(),
            "host": self.host,
            "unit": self.unit,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.timestamp)),
            "items": [
                {
                    "name": item.name,
                    "kind": item.kind,
                    "event": item.event,
                    "summary": scrub(item.summary),
                    "see": item.see,
                }
                for item in self.items
            ],
            "notes": [scrub(note) for note in self.notes],
            "test": self.test,
        }


def notification_test_report(*, unit: str, host: str, now: float) -> FailureReport:
    """A report that says it is a test, to check every channel reaches its reader."""
    return FailureReport(
        host=host,
        unit=unit,
        items=(),
        notes=("this is a test of renewer's failure notifications; nothing failed",),
        timestamp=now,
        test=True,
    )


def build_report(
    record: RunRecord, *, unit: str, host: str, now: float, problems: Sequence[str] = ()
) -> FailureReport:
    """The report for *record*; *problems* are reasons found on the way (a bad config)."""
    items: list[FailedItem] = []
    notes: list[str] = list(problems)
    if record.problem:
        notes.append(record.problem)
    finished = record.last_run.get("finished_at")
    next_run = next_run_at(
        timer_next=None,
        last_finished=finished if isinstance(finished, int | float) else None,
        interval=DEFAULT_INTERVAL,
        now=now,
    )
    for attention in check_attention(record.items, record.last_run, now=now, next_run=next_run):
        item = record.items.get(attention.item)
        if item is None:
            notes.append(attention.reason)
            continue
        items.append(
            FailedItem(
                key=attention.item,
                kind=str(item.get("kind", "")),
                name=str(item.get("name", "")),
                event=str(item.get("event", "")),
                summary=attention.reason,
                see=str((item.get("details") or {}).get("see") or ""),
            )
        )
    if not items and not notes:
        notes.append(
            "the run recorded no failing item: it stopped before recording "
            f"(lock busy, Vault unreachable, config invalid); journalctl --user -u {unit}"
        )
    return FailureReport(
        host=host, unit=unit, items=tuple(items), notes=tuple(notes), timestamp=now
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one channel went."""

    channel: str  # "journal", "stderr", "desktop", "webhook"
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"{self.channel}: {'sent' if self.ok else 'FAILED'}" + (
            f" ({self.detail})" if self.detail else ""
        )


def send_journal(report: FailureReport) -> Delivery:
    """The crit entry, via the configured structlog chain (journald, or stderr as JSON).

    A test is logged at info level, so alerting on crit does not fire.
    """
    log = get_logger()
    try:
        (log.info if report.test else log.critical)(
            TEST_EVENT if report.test else EVENT,
            unit=report.unit,
            host=report.host,
            failed_items=[item.key for item in report.items],
            summary=report.message(),
        )
    except OSError as exc:  # stderr closed: nothing more to try on this channel
        _discard_stderr()
        return Delivery("stderr", ok=False, detail=exc.strerror or type(exc).__name__)
    return Delivery("journal" if journal_active() else "stderr", ok=True)


def _discard_stderr() -> None:
    """stderr is gone (EPIPE): later writes and the flush at exit go to /dev/null.

    Without this, Python's final flush of the unwritten line fails too and the
    process exits 120 instead of the exit code notify decided on.
    """
    with contextlib.suppress(OSError, ValueError):
        target = sys.stderr.fileno()  # first: a stream without a descriptor has none to redirect
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, target)
        finally:
            os.close(devnull)


def send_desktop(
    report: FailureReport, *, which: Callable[[str], str | None] = shutil.which
) -> Delivery | None:
    """``notify-send`` when it is on PATH; None when it is not (nothing attempted)."""
    program = which("notify-send")
    if program is None:
        return None
    body = "\n".join(scrub(line) for line in report.lines()) + "\nRun: renewer status"
    argv = [
        program,
        "--urgency=normal" if report.test else "--urgency=critical",
        "--app-name=renewer",
        "--icon=dialog-error",
        scrub(f"renewer: {report.title}"),
        body,
    ]
    try:
        completed = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=DESKTOP_TIMEOUT,
            check=False,
            env=child_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Delivery("desktop", ok=False, detail=type(exc).__name__)
    if completed.returncode != 0:
        why = (completed.stderr.strip().splitlines() or [""])[0]
        return Delivery("desktop", ok=False, detail=scrub(f"exit {completed.returncode} {why}"))
    return Delivery("desktop", ok=True)


def webhook_label(url: str) -> str:
    """What may be printed of a webhook URL: scheme and host, never the path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}"


def send_webhook(report: FailureReport, url: str, *, timeout: float) -> Delivery:
    """POST the JSON body; 2xx is delivered. No redirects: the body goes where configured."""
    import requests

    register(url)
    label = webhook_label(url)
    try:
        response = requests.post(
            url,
            json=report.body(),
            timeout=timeout,
            allow_redirects=False,
            headers={"User-Agent": f"renewer/{__version__}"},
        )
    except requests.Timeout:
        return Delivery("webhook", ok=False, detail=f"{label}: no answer within {timeout:g}s")
    except requests.RequestException as exc:
        return Delivery("webhook", ok=False, detail=f"{label}: {type(exc).__name__}")
    if not 200 <= response.status_code < 300:
        return Delivery("webhook", ok=False, detail=f"{label}: HTTP {response.status_code}")
    return Delivery("webhook", ok=True, detail=label)


def notify(report: FailureReport, *, webhook: str | None, timeout: float) -> list[Delivery]:
    """Send *report* on every channel; each failure is logged, none stops the others."""
    deliveries = [send_journal(report)]
    desktop = send_desktop(report)
    if desktop is not None:
        deliveries.append(desktop)
    if webhook:
        deliveries.append(send_webhook(report, webhook, timeout=timeout))
    log = get_logger()
    for delivery in deliveries:
        if delivery.ok:
            continue
        with contextlib.suppress(OSError):  # stderr may be the channel that failed
            log.warning(
                "notify.failed",
                channel=delivery.channel,
                summary=f"could not notify by {delivery.channel}: {delivery.detail}",
            )
    return deliveries
