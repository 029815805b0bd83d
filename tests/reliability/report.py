"""Render docs/reliability.md from the tally of a test run (tests/reliability/tally.py).

    python -m tests.reliability.report REPORT.json docs/reliability.md

Normally called by ``tests/reliability/run.sh [--long]``, which runs every
test under ``tests/reliability/`` and every test marked with a floor case,
with ``RENEWER_RELIABILITY_REPORT`` set. The document is generated: edit this
module (or the tests), not the Markdown.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.reliability.test_floor import TITLES

SECTIONS = [
    ("crash-point", "Crash points: a real process SIGKILLed at each named step"),
    ("random-kill", "Random kills: SIGKILL after a random delay within the protocol's duration"),
    ("power-loss", "Simulated power loss: crash states replayed from recorded file-system calls"),
    ("harness-self-test", "The harness can fail: sabotaged renewers it must catch"),
    ("fault", "Vault faults injected by the dev server"),
    ("race", "Races between real processes"),
    ("hostile-answer", "Hostile server answers: Vault, token endpoints, APIs (an impostor)"),
    ("hostile-file", "Hostile token files"),
    ("filesystem", "Hostile file systems"),
    ("fuzz", "Hypothesis fuzzing (examples)"),
    ("secrets", "Secrets"),
    ("floor", "Other floor checks"),
]

LIMITS = """\
* **OAuth2 refresh-token rotation has one unavoidable window.** With a
  provider that invalidates the old refresh token on use (the test peer
  does), a kill after the provider rotated and before the runtime blob's
  fsync loses the new refresh token: nobody can store an answer before it
  arrives. renewer keeps that window to the response itself, parsing, one
  encryption and one fsync (nothing else runs in between); the crash
  harness asserts it is the *only* window (named points
  `credential.refreshed` and the runtime blob's `write.*` before its
  rename), and the next run then ends in `credential.reauth_required` with
  `renewer auth login NAME` (exit 1), never a loop. Providers with a reuse
  grace period (Okta, Auth0) or without rotation are not affected. Random
  kills that land there are counted as `refresh-token-lost-in-flight`.
* **Power loss is simulated**, not produced: dm-log-writes, CrashMonkey or VM
  snapshots need a block device or hypervisor this container lacks. The
  model (tests/reliability/powerloss.py) replays recorded calls under
  journaling semantics; it catches a missing fsync (its own tests), but it
  cannot catch a file system or disk that lies about fsync.
* **EACCES is produced with `setpriv`** (root without CAP_DAC_OVERRIDE):
  the test VM runs as root and Python cannot run as another user here.
* **Crash points run in processes forked from a pre-imported renewer** (the
  zygote, tests/reliability/zygote.py) so that random kills land in the
  work, not in half a second of imports; a test checks that a forked child
  and `python -m renewer` pass exactly the same crash points, and the
  existing named-point tests in tests/integration/ use `python -m renewer`.
* **Answer-size and time bounds cover what renewer itself reads.** Vault
  answers (32 MiB, identity encoding, the run's deadline) and the answers of
  token endpoints, STS and recipe tests (8 MiB, identity, the call's
  deadline) go through renewer/bounded_http.py. Two readers are left to
  requests on purpose: `bind` (what an application fetches is its own
  business) and the rotation's test webhook (its body is never read for a
  verdict; the receiver is one the user configured).
* **Directory locking falls back to the lock file alone** where a directory
  cannot be flocked (NFS); there a lock file deleted under a running renewer
  lets a second run in, as before.
"""


def short(nodeid: str) -> str:
    """``tests/x/test_y.py::Class::test_z[param]`` → ``test_y.py::test_z``."""
    path, _, rest = nodeid.partition("::")
    name = re.sub(r"\[.*\]$", "", rest.split("::")[-1])
    return f"{Path(path).name}::{name}"


def grouped(nodeids: Iterable[str]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for nodeid in nodeids:
        counts[short(nodeid)] += 1
    return "<br>".join(
        f"`{name}`" + (f" ×{count}" if count > 1 else "") for name, count in sorted(counts.items())
    )


def verdict(outcomes: Iterable[str]) -> str:
    seen = set(outcomes)
    if "failed" in seen:
        return "**FAIL**"
    if seen == {"skipped"}:
        return "skipped"
    return "pass" + (" (some skipped)" if "skipped" in seen else "")


def floor_table(document: dict[str, Any]) -> list[str]:
    tests: dict[str, dict[str, Any]] = document["tests"]
    tries_of: dict[str, int] = defaultdict(int)
    for record in document["records"]:
        tries_of[record["test"]] += record["tries"]
    lines = [
        "| # | Case (§5) | Tests | Tries | Result |",
        "| ---: | --- | --- | ---: | --- |",
    ]
    for case, title in TITLES.items():
        covering = {n: t for n, t in tests.items() if case in t["floor"]}
        tries = sum(tries_of.get(nodeid, 1) for nodeid in covering)
        result = verdict(t["outcome"] for t in covering.values()) if covering else "**NO TEST**"
        lines.append(f"| {case} | {title} | {grouped(covering)} | {tries} | {result} |")
    return lines


def section_tables(document: dict[str, Any]) -> list[str]:
    tests: dict[str, dict[str, Any]] = document["tests"]
    by_prefix: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for record in document["records"]:
        prefix, _, rest = record["case"].partition("/")
        row = by_prefix[prefix].setdefault(
            rest, {"tries": 0, "outcomes": defaultdict(int), "tests": set(), "notes": set()}
        )
        row["tries"] += record["tries"]
        outcome = record["outcome"]
        if record["test"] and tests.get(record["test"], {}).get("outcome") == "failed":
            outcome = "FAIL"
        row["outcomes"][outcome] += record["tries"]
        if record["test"]:
            row["tests"].add(record["test"])
        if record["note"]:
            row["notes"].add(record["note"])
    lines: list[str] = []
    for prefix, heading in SECTIONS:
        rows = by_prefix.pop(prefix, {})
        if rows and prefix == "crash-point":
            lines += _crash_points(heading, rows)
        elif rows:
            lines += _table(heading, rows)
    for prefix, rows in sorted(by_prefix.items()):
        lines += _table(prefix, rows)
    return lines


def _crash_points(heading: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    """One row per protocol: every step killed at (``name ×occurrences``) and the outcomes."""
    protocols: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"kills": 0, "steps": defaultdict(int), "outcomes": defaultdict(int)}
    )
    for name, row in rows.items():
        protocol, _, step = name.partition("/")
        entry = protocols[protocol]
        entry["kills"] += row["tries"]
        entry["steps"][step.partition("#")[0]] += row["tries"]
        for outcome, count in row["outcomes"].items():
            entry["outcomes"][outcome] += count
    total = sum(entry["kills"] for entry in protocols.values())
    lines = [
        "",
        f"### {heading}",
        "",
        f"{len(protocols)} protocols, {len(rows)} distinct steps, {total} kills. Each kill is",
        "followed by the checks of the moment after (old-or-new, parse-valid, 0600) and",
        "by a normal run and the end-state checks (nothing lost, nothing leaked, no temp file).",
        "",
        "| Protocol | Kills | Steps killed at (×occurrences) | Outcomes |",
        "| --- | ---: | --- | --- |",
    ]
    for protocol, entry in sorted(protocols.items()):
        steps = ", ".join(
            f"`{step}`" + (f" ×{count}" if count > 1 else "")
            for step, count in entry["steps"].items()
        )
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(entry["outcomes"].items()))
        lines.append(f"| {protocol} | {entry['kills']} | {steps} | {outcomes} |")
    return lines


def _table(heading: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    total = sum(row["tries"] for row in rows.values())
    lines = [
        "",
        f"### {heading}",
        "",
        f"{len(rows)} cases, {total} tries.",
        "",
        "| Case | Tries | Outcomes | Test |",
        "| --- | ---: | --- | --- |",
    ]
    for name, row in sorted(rows.items()):
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(row["outcomes"].items()))
        notes = "; ".join(sorted(row["notes"]))
        case = f"`{name}`" + (f" ({notes})" if notes and len(notes) < 40 else "")
        lines.append(f"| {case} | {row['tries']} | {outcomes} | {grouped(row['tests'])} |")
    return lines


def render(document: dict[str, Any], *, command: str) -> str:
    tests: dict[str, dict[str, Any]] = document["tests"]
    outcomes: dict[str, int] = defaultdict(int)
    for entry in tests.values():
        outcomes[entry["outcome"]] += 1
    minutes = (document["finished"] - document["started"]) / 60
    when = datetime.fromtimestamp(document["finished"], tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = ", ".join(f"{count} {name}" for name, count in sorted(outcomes.items()))
    long_words = (
        "the **long** run (`RENEWER_LONG_TESTS=1`: every occurrence of every crash point, "
        "~100 random kills per protocol, thousands of fuzz examples)"
        if document["mode"] == "long"
        else "the **short** run (what CI runs: distinct crash points, a few random kills, "
        "tens of fuzz examples)"
    )
    lines = [
        "# Reliability report (issue #8)",
        "",
        "<!-- Generated by tests/reliability/report.py; do not edit by hand. -->",
        "",
        f"Generated by `{command}` on {when} from {long_words}: {len(tests)} tests counted "
        f"({summary}) in {minutes:.1f} min, pytest exit status {document.get('exitstatus')}.",
        "Regenerate with `tests/reliability/run.sh` (short) or `tests/reliability/run.sh --long`.",
        "",
        "What is proven: nothing is lost and nothing leaks under faults, races and hostile",
        "input: the twenty cases of `../shared/reference/perf-reliability-notes.md` §5 are the",
        "floor, and the issue's own items follow. *Tries* count kills, injected faults, fuzz",
        "examples, crash states or scanned files, as the case says; a test without a count",
        "of its own counts once.",
        "",
        "## The twenty floor cases",
        "",
        *floor_table(document),
        "",
        "## The issue's items",
        *section_tables(document),
        "",
        "## Known limits",
        "",
        LIMITS,
    ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    if len(argv) not in {2, 3}:
        print("usage: python -m tests.reliability.report REPORT.json OUT.md [COMMAND]")
        return 2
    document = json.loads(Path(argv[0]).read_text())
    command = argv[2] if len(argv) == 3 else "tests/reliability/run.sh"
    Path(argv[1]).write_text(render(document, command=command))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
