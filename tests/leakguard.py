"""Suite-wide guard: a test fails when a secret it created shows up in captured output.

Tests create secrets through the ``make_secret`` fixture (or register values
they obtain, such as minted tokens, with ``leakguard.remember``). After each
test phase, every captured stream pytest kept (stdout, stderr, log records)
and every text handed to :func:`scan` (CLI output, subprocess output, journal
fields) is searched for those values. A hit fails the test without printing
the secret.

At the end of the session every file under any renewer state dir
(``.local/state/renewer/``) and every metrics textfile the suite's tests
left in the temp tree is searched for every secret any test created: the
ledger, run state, rotation states, locks and markers must never hold one.

Two taps are installed for the whole session, so no test has to remember to
scan them: every event a ``structlog.testing.capture_logs()`` block collects
(it bypasses renewer's redaction, so a secret handed to the logger at all is
caught), and every field set renewer renders for journald in this process.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from renewer import redact

_lock = threading.Lock()
_values: set[str] = set()
_session_values: set[str] = set()  # every secret of the session, for the final state-dir scan
_scanned: list[tuple[str, str]] = []


def remember(*values: str) -> None:
    """Treat *values* as secrets for the rest of the current test."""
    kept = [value for value in values if value and len(value) >= 6]
    with _lock:
        _values.update(kept)
        _session_values.update(kept)


def scan(label: str, text: str | bytes | None) -> None:
    """Queue *text* (CLI output, a subprocess's stderr, journal fields...) for the leak check."""
    if text is None:
        return
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    with _lock:
        _scanned.append((label, text))


def leaks_in(texts: Iterable[tuple[str, str]]) -> list[str]:
    """Labels of the *texts* that contain a remembered secret."""
    with _lock:
        values = tuple(_values)
    return [label for label, text in texts if any(value in text for value in values)]


def remembered() -> frozenset[str]:
    """The secret values of the current test (for scans of files, argv, environments)."""
    with _lock:
        return frozenset(_values)


def session_remembered() -> frozenset[str]:
    """Every secret value of the session so far (for homes outside the temp tree)."""
    with _lock:
        return frozenset(_session_values)


def _tap_structlog_captures() -> None:
    from structlog.testing import LogCapture

    original = LogCapture.__call__
    if getattr(original, "leakguard", False):
        return

    def capture(self: LogCapture, logger: object, method: str, event: Any) -> Any:
        scan(f"structlog event {event.get('event', '')}", repr(event))
        return original(self, logger, method, event)

    capture.leakguard = True  # type: ignore[attr-defined]
    LogCapture.__call__ = capture  # type: ignore[method-assign,assignment]


def _tap_journal_fields() -> None:
    from renewer import logging as renewer_logging

    original = renewer_logging.journal_fields
    if getattr(original, "leakguard", False):
        return

    def fields(event: Any) -> dict[str, str]:
        rendered = original(event)
        scan(f"journal fields {rendered.get('RENEWER_EVENT', '')}", repr(rendered))
        return rendered

    fields.leakguard = True  # type: ignore[attr-defined]
    renewer_logging.journal_fields = fields


def pytest_configure(config: pytest.Config) -> None:
    _tap_structlog_captures()
    _tap_journal_fields()


STATE_DIR_PART = "/.local/state/renewer/"


def stray_secrets(root: Path, values: Iterable[str]) -> tuple[int, list[str]]:
    """(files scanned, files holding one of *values*) among renewer's non-secret files."""
    ordered = sorted(values, key=len, reverse=True)
    if not ordered:
        return 0, []
    pattern = re.compile("|".join(re.escape(value) for value in ordered).encode())
    scanned, found = 0, []
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            if STATE_DIR_PART not in path + "/" and not name.endswith(".prom"):
                continue
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            try:
                with open(path, "rb") as handle:
                    content = handle.read(1 << 20)
            except OSError:
                continue
            scanned += 1
            if pattern.search(content):
                found.append(path)
    return scanned, found


@pytest.fixture(scope="session", autouse=True)
def _no_secret_left_in_state_dirs(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[None]:
    """After the whole session: renewer's own records in every test's home hold no secret."""
    yield
    if not request.config.pluginmanager.hasplugin("tests.reliability.tally"):
        return  # an inner session (the guard's own tests run pytest inside pytest)
    with _lock:
        values = set(_session_values)
    scanned, found = stray_secrets(tmp_path_factory.getbasetemp(), values)
    from tests.reliability import tally

    outcome = "fail" if found else "pass"
    tally.record("secrets/session-state-dir-scan", tries=scanned, outcome=outcome, test="")
    assert not found, f"secret values written in renewer state files: {found[:10]}"


@pytest.fixture
def make_secret() -> Callable[[str], str]:
    """A factory of unique, remembered secret values: ``make_secret("api-key")``."""

    def make(prefix: str = "secret") -> str:
        value = f"{prefix}-{secrets.token_urlsafe(18)}"
        remember(value)
        return value

    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    with _lock:
        extra = list(_scanned)
        _scanned.clear()
    # Each phase's report repeats earlier phases' sections; look at its own only.
    own = [(name, text) for name, text in report.sections if name.endswith(f" {call.when}")]
    leaked = leaks_in(own + extra)
    if leaked and report.passed:
        report.outcome = "failed"
        report.longrepr = (
            f"secret leak: a secret value created by this test appeared in: {', '.join(leaked)}"
        )
    if call.when == "teardown":
        with _lock:
            _values.clear()
        redact.forget_all()
