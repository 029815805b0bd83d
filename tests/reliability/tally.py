"""Tally plugin: how often each reliability case was tried and how it ended.

A test records what it tried with :func:`record` (``tally.record("random-kill/heal",
tries=40)``). Tests marked ``@pytest.mark.floor(n, ...)`` map themselves to the
twenty floor cases of ``perf-reliability-notes.md`` §5. When
``RENEWER_RELIABILITY_REPORT=<path>`` is set, the session writes everything
as JSON at its end; ``tests/reliability/report.py`` renders
``docs/reliability.md`` from it. Without the variable the plugin only keeps
counts in memory (cheap), so the default suite runs unchanged.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability import budget

REPORT_VARIABLE = "RENEWER_RELIABILITY_REPORT"

_lock = threading.Lock()
_target = ""
_current = ""
_records: list[dict[str, Any]] = []
_tests: dict[str, dict[str, Any]] = {}
_started = time.time()


def record(
    case: str, *, tries: int = 1, outcome: str = "pass", note: str = "", test: str | None = None
) -> None:
    """Count *tries* of *case* for the running test (``outcome``: pass, or a named variant)."""
    with _lock:
        _records.append(
            {
                "case": case,
                "test": _current if test is None else test,
                "tries": tries,
                "outcome": outcome,
                "note": note,
            }
        )


def floor_cases(item: pytest.Item) -> list[int]:
    """The floor case numbers *item* is marked with."""
    cases: list[int] = []
    for mark in item.iter_markers("floor"):
        cases.extend(int(case) for case in mark.args)
    return sorted(set(cases))


def pytest_configure(config: pytest.Config) -> None:
    """Take the switches out of the environment: renewer's hooks and children must not see
    them (a hook's environment is asserted to hold only renewer's own RENEWER_* names)."""
    global _target  # noqa: PLW0603 - where the session's JSON goes
    _target = os.environ.pop(REPORT_VARIABLE, "")
    os.environ.pop(budget.VARIABLE, None)  # already read by tests.reliability.budget


def pytest_runtest_setup(item: pytest.Item) -> None:
    global _current  # noqa: PLW0603 - the running test, for record()
    _current = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    with _lock:
        entry = _tests.setdefault(
            item.nodeid, {"outcome": "passed", "floor": floor_cases(item), "duration": 0.0}
        )
        entry["duration"] += report.duration
        if report.failed:
            entry["outcome"] = "failed"
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"


def snapshot() -> dict[str, Any]:
    """Everything recorded so far, as the JSON document the report reads."""
    with _lock:
        tests = {
            nodeid: entry
            for nodeid, entry in _tests.items()
            if entry["floor"] or any(r["test"] == nodeid for r in _records)
        }
        return {
            "mode": budget.MODE,
            "started": _started,
            "finished": time.time(),
            "tests": tests,
            "records": list(_records),
        }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = _target
    if not target:
        return
    document = snapshot()
    document["exitstatus"] = int(exitstatus)
    Path(target).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
