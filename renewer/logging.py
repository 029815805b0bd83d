"""structlog setup: one processor chain, one renderer chosen by ``--log-format``.

* ``console`` (a terminal): one readable line per event, the seed's
  ``OK renewed …`` / ``HEALED: …`` / ``DRIFT: …`` sentences.
* ``json`` (pipes, tests): one JSON object per line.
* ``journal`` (under systemd): native journald fields via systemd-python —
  ``MESSAGE`` (the sentence), ``PRIORITY``, ``SYSLOG_IDENTIFIER=renewer``,
  ``RENEWER_EVENT``, ``RENEWER_ITEM`` and every other key upper-cased — so
  ``journalctl --user RENEWER_EVENT=token.drift`` works. Without
  systemd-python or without a journal socket that answers, events go to stderr as JSON
  (which systemd captures too), after one line saying so: never lost silently.

The default is worked out here, at the edge: ``journal`` when
``$JOURNAL_STREAM`` is set (systemd connected our stderr to the journal),
``console`` on a TTY, ``json`` otherwise. Redaction runs before any renderer:
secret-named keys are dropped and every string is scrubbed of registered
secret values and Vault-token-shaped words, then made printable (control
characters and escape sequences from a server or a file shown as escapes,
line breaks too: one event stays one line; issue 20).
"""

from __future__ import annotations

import json
import logging as stdlib_logging
import os
import socket
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO, cast

import structlog

from renewer.core.printable import printable
from renewer.redact import MASK, scrub

JOURNAL_SOCKET = "/run/systemd/journal/socket"
SYSLOG_IDENTIFIER = "renewer"
_SECRET_KEYS = frozenset(
    {
        "token",
        "client_token",
        "secret",
        "password",
        "client_secret",
        "refresh_token",
        "access_token",
        "authorization",
        "private_key",
        "secret_id",
    }
)
_PRIORITY = {"debug": 7, "info": 6, "warning": 4, "error": 3, "critical": 2}
_LEVELS = {"debug": stdlib_logging.DEBUG, "info": stdlib_logging.INFO}
_CONSOLE_MARK = {"warning": "warning: ", "error": "error: ", "critical": "CRITICAL: "}
_journal: JournalLogger | None = None  # set by configure() when events go to journald


def _clean(value: Any) -> Any:
    """Strings scrubbed and made printable, inside lists and dicts too."""
    if isinstance(value, str):
        return printable(scrub(value))
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, Mapping):
        return {_clean(str(key)): _clean(item) for key, item in value.items()}
    return value


def redact_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop secret-named keys; scrub every string value and make it printable."""
    for key in list(event):
        lowered = key.lower()
        if lowered in _SECRET_KEYS or lowered.startswith("secret"):
            event[key] = MASK
            continue
        event[key] = _clean(event[key])
    return event


def sentence(event: Mapping[str, Any]) -> str:
    """The human sentence for an event: its ``summary``, else the name and the fields.

    A failed item's sentence ends with ``see: runbooks/<file>.md#<anchor>`` (its
    ``see`` field), as the README promises for every error renewer prints.
    """
    summary = event.get("summary")
    if isinstance(summary, str) and summary:
        see = event.get("see")
        if isinstance(see, str) and see and f"see: {see}" not in summary:
            return f"{summary}; see: {see}"
        return summary
    skip = {"event", "level", "timestamp", "summary"}
    fields = " ".join(f"{key}={value}" for key, value in event.items() if key not in skip)
    return f"{event.get('event', '')} {fields}".strip()


def render_console(_: Any, __: str, event: MutableMapping[str, Any]) -> str:
    """A summary carries its own keyword (OK, HEALED, DRIFT…); other events get the level."""
    if event.get("summary"):
        return sentence(event)
    return _CONSOLE_MARK.get(str(event.get("level")), "") + sentence(event)


def render_json(_: Any, __: str, event: MutableMapping[str, Any]) -> str:
    return scrub(json.dumps(dict(event), default=str, sort_keys=False))


def journal_fields(event: Mapping[str, Any]) -> dict[str, str]:
    """structlog event → native journal fields (``[A-Z0-9_]``, never a leading ``_``).

    ``MESSAGE`` is the sentence, ``PRIORITY`` the syslog severity of the level,
    ``RENEWER_EVENT`` the event name; every other key becomes ``RENEWER_<KEY>``
    (``item`` → ``RENEWER_ITEM``). Values that are not strings are JSON. Every
    value is scrubbed once more here: redaction already ran, but a secret nested
    in a dict would only become visible now, as text.
    """
    fields = {
        "MESSAGE": scrub(sentence(event)),
        "PRIORITY": str(_PRIORITY.get(str(event.get("level")), 6)),
        "SYSLOG_IDENTIFIER": SYSLOG_IDENTIFIER,
        "RENEWER_EVENT": scrub(str(event.get("event", ""))),
    }
    for key, value in event.items():
        if key in {"event", "level", "summary"} or value is None:
            continue
        name = "".join(ch if ch.isalnum() and ch.isascii() else "_" for ch in key.upper())
        name = name.lstrip("_")
        if not name:
            continue
        if not name.startswith("RENEWER_") and name != "TIMESTAMP":
            name = f"RENEWER_{name}"
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        fields[name[:64]] = scrub(text)
    return fields


def render_journal(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> tuple[tuple[dict[str, Any]], dict[str, str]]:
    """The journal fields, plus the event itself in case journald stops answering.

    structlog hands a ``(args, kwargs)`` pair to the logger as ``*args, **kwargs``:
    :class:`JournalLogger` sends the fields, and only after a failed send renders
    the event as ``--log-format json`` does (so stderr never gets a second JSON
    dialect, and a healthy journal never pays for a JSON line nobody reads).
    """
    return (dict(event),), journal_fields(event)


def _fallback_notice(reason: str) -> str:
    return f"renewer: journald is not reachable ({reason}); logging JSON to stderr instead"


class JournalLogger:
    """A structlog logger that hands the final field dict to ``systemd.journal.send``.

    If a send fails (the socket exists but nothing listens, the journal is
    full...), the event and every later one go to *fallback* as JSON, after one
    line saying so: never lost silently.
    """

    def __init__(self, send: Any, fallback: TextIO) -> None:
        self._send = send
        self._fallback = fallback
        self.failed = False

    def _emit(self, event: dict[str, Any], /, **fields: str) -> None:
        if not self.failed:
            message = fields.get("MESSAGE", "")
            try:
                self._send(message, **{k: v for k, v in fields.items() if k != "MESSAGE"})
                return
            except OSError as exc:
                self.failed = True
                reason = f"sending failed: {exc.strerror or exc}"
                print(_fallback_notice(reason), file=self._fallback)
        print(render_json(None, "", event), file=self._fallback, flush=True)

    msg = info = debug = warning = error = critical = log = _emit


def journal_sender() -> tuple[Any | None, str]:
    """``(systemd.journal.send, "")`` when journald can be reached, else ``(None, why not)``.

    systemd-python's ``send`` returns without error when there is no socket
    (perf-reliability-notes §3.5), so the socket is checked here, first: it must
    exist and take a connection. A socket file left by a journald that is gone
    refuses it (ECONNREFUSED); found here, the whole run logs JSON to stderr.
    """
    try:
        from systemd import journal
    except ImportError:
        return None, "systemd-python is not installed"
    if not os.path.exists(JOURNAL_SOCKET):
        return None, f"no journal socket at {JOURNAL_SOCKET}"
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.connect(JOURNAL_SOCKET)
    except OSError as exc:
        return None, f"{JOURNAL_SOCKET} does not answer: {exc.strerror or exc}"
    finally:
        probe.close()
    return journal.send, ""


def choose_format(requested: str | None, environ: Mapping[str, str], stream: TextIO) -> str:
    if requested:
        return requested
    if environ.get("JOURNAL_STREAM"):
        return "journal"
    isatty = getattr(stream, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the moment of each write.

    Binding ``sys.stderr`` when logging is configured kept that stream for
    good: after anything that swaps it for a while (click's ``CliRunner``, a
    caller capturing output) and closes it, every later event failed with
    "I/O operation on closed file".
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(
    log_format: str | None = None,
    *,
    verbosity: int = 0,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Configure structlog for this process and return the format in effect."""
    env = os.environ if environ is None else environ
    # the duck-typed stand-in has every method print() and the loggers call
    out = stream if stream is not None else cast(TextIO, _CurrentStderr())
    chosen = choose_format(log_format, env, out)
    level = _LEVELS["debug"] if verbosity >= 2 else _LEVELS["info"]
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        redact_event,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    global _journal  # noqa: PLW0603 - structlog's configuration is process-wide too
    _journal = None
    factory: Any
    if chosen == "journal":
        send, problem = journal_sender()
        if send is not None:
            renderer: Any = render_journal
            journal_logger = JournalLogger(send, out)
            factory = lambda *_: journal_logger  # noqa: E731 - structlog wants a callable
            _journal = journal_logger
        else:
            print(_fallback_notice(problem), file=out, flush=True)
            renderer, factory = render_json, structlog.PrintLoggerFactory(out)
    elif chosen == "console":
        renderer, factory = render_console, structlog.PrintLoggerFactory(out)
    else:
        renderer, factory = render_json, structlog.PrintLoggerFactory(out)
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=factory,
        cache_logger_on_first_use=False,
    )
    return chosen


def journal_active() -> bool:
    """True while events go to journald (configured so, and no send has failed)."""
    return _journal is not None and not _journal.failed


def get_logger() -> Any:
    """The project's logger: ``log.info("token.renewed", item=..., summary=...)``."""
    return structlog.get_logger(SYSLOG_IDENTIFIER)
