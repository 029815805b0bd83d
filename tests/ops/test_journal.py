"""Logs under systemd: native journald fields for real, and an honest stderr fallback.

The journal path is tested end to end without a mock: the test takes
journald's place on its native socket (tests/ops/journald.py), a real
``renewer`` process logs through the real systemd-python, and the datagrams
are parsed by the native protocol. The process runs with a ``/run/systemd``
of the test's own (a mount namespace), so whatever else on the machine owns
or creates the real socket changes nothing; that needs root, and without it
these tests skip and say why.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import structlog

from renewer import logging as renewer_logging
from renewer.logging import JOURNAL_SOCKET
from renewer.redact import register
from tests import leakguard
from tests.integration.conftest import World
from tests.ops.journald import (
    Entry,
    PrivateJournal,
    SocketState,
    namespace_problem,
    parse_native,
    private_journal,
)

RENEWER = (sys.executable, "-m", "renewer")
SEND_TWO = """\
from systemd import journal
journal.send("two\\nlines", RENEWER_NOTE="a=b\\nc", SYSLOG_IDENTIFIER="renewer")
journal.send("x" * 300_000, SYSLOG_IDENTIFIER="renewer")
"""


def need_systemd_python() -> None:
    pytest.importorskip("systemd.journal", reason="systemd-python (the journal extra) is missing")


def need_namespace() -> None:
    problem = namespace_problem()
    if problem:
        pytest.skip(f"cannot give renewer a journald of the test's own: {problem}")


def renewer_process(
    world: World, place: PrivateJournal, *args: str
) -> subprocess.CompletedProcess[str]:
    """A real `renewer` process in the world's home, seeing *place* as /run/systemd."""
    world.write_config()
    env = {k: v for k, v in os.environ.items() if k not in {"VAULT_TOKEN", "JOURNAL_STREAM"}}
    env["HOME"] = str(world.home)
    completed = subprocess.run(
        place.argv([*RENEWER, "--config", str(world.config_path), *args]),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    leakguard.scan("renewer stdout", completed.stdout)
    leakguard.scan("renewer stderr", completed.stderr)
    return completed


def run_logged(world: World, journal: PrivateJournal, *args: str) -> tuple[int, str, list[Entry]]:
    """Run renewer (journal format), return its exit code, stderr and journal entries."""
    world.write_config()
    env = {k: v for k, v in os.environ.items() if k not in {"VAULT_TOKEN", "JOURNAL_STREAM"}}
    env["HOME"] = str(world.home)
    process = subprocess.Popen(
        journal.argv(
            [*RENEWER, "--config", str(world.config_path), "--log-format", "journal", *args]
        ),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = process.communicate(timeout=60)
    entries = journal.collect(pids={process.pid})
    leakguard.scan("renewer stdout", out)
    leakguard.scan("renewer stderr", err)
    for entry in entries:
        leakguard.scan(f"journal entry {entry.get('RENEWER_EVENT')}", entry.as_text())
    return process.returncode, err, entries


def by_event(entries: list[Entry], event: str) -> Entry:
    matches = [entry for entry in entries if entry.get("RENEWER_EVENT") == event]
    assert matches, f"no {event} entry among {[e.get('RENEWER_EVENT') for e in entries]}"
    return matches[-1]


@contextlib.contextmanager
def journald(socket_state: SocketState = "listening") -> Iterator[PrivateJournal]:
    """A /run/systemd of the test's own with journald's socket *socket_state*."""
    need_namespace()
    with private_journal(socket_state) as place:
        yield place


@pytest.fixture
def journal() -> Iterator[PrivateJournal]:
    """journald's native socket, bound by this test in a /run/systemd of its own."""
    need_systemd_python()
    with journald() as place:
        yield place


class TestJournalPath:
    def test_a_renewal_arrives_as_native_fields(
        self, world: World, journal: PrivateJournal
    ) -> None:
        """MESSAGE is the sentence; PRIORITY, SYSLOG_IDENTIFIER and RENEWER_* are set."""
        world.write(world.mint_ours())

        code, err, entries = run_logged(world, journal, "run")

        assert code == 0, err
        assert err == ""  # everything went to the journal: no fallback notice
        renewed = by_event(entries, "token.renewed")
        message = renewed.get("MESSAGE") or ""
        assert message.startswith(f"OK renewed devvm ({world.ours}, ttl 32d")
        assert renewed.get("PRIORITY") == "6"
        assert renewed.get("SYSLOG_IDENTIFIER") == "renewer"
        assert renewed.get("RENEWER_ITEM") == "devvm"
        assert renewed.get("RENEWER_OUTCOME") == "OK"
        assert by_event(entries, "run.finished").get("PRIORITY") == "6"
        for entry in entries:
            sent = [key for key, _ in entry.fields if not key.startswith("_")]
            assert all(re.fullmatch(r"[A-Z0-9_]+", key) for key in sent)
            assert len(sent) == len(entry.fields)

    def test_a_drift_is_an_error_entry_findable_by_its_event(
        self, world: World, journal: PrivateJournal
    ) -> None:
        """What `journalctl --user RENEWER_EVENT=token.drift` matches: the field, at err."""
        weak = world.weak_clobber()
        world.write(weak)

        code, _err, entries = run_logged(world, journal, "run")

        assert code == 1
        drift = by_event(entries, "token.drift")
        assert drift.get("PRIORITY") == "3"
        assert (drift.get("MESSAGE") or "").startswith("DRIFT devvm:")
        assert drift.get("RENEWER_FOREIGN_DISPLAY_NAME") == "token-kubernetes-woodpecker-default"
        assert all(weak not in entry.as_text() for entry in entries)

    def test_multiline_and_oversized_values_are_framed_as_journald_expects(
        self, journal: PrivateJournal
    ) -> None:
        """systemd-python's binary framing and its memfd path, parsed back intact."""
        sender = subprocess.Popen(journal.argv([sys.executable, "-c", SEND_TWO]))
        assert sender.wait(timeout=60) == 0

        entries = journal.collect(pids={sender.pid})
        big = "x" * 300_000

        assert [entry.get("MESSAGE") for entry in entries] == ["two\nlines", big]
        assert entries[0].get("RENEWER_NOTE") == "a=b\nc"

    @pytest.mark.floor(20)
    def test_a_dead_journald_socket_falls_back_to_stderr(self, world: World) -> None:
        """The socket file exists but nobody listens: one notice, then the JSON format.

        Found before the first event (the socket refuses a connection), so every
        event has the shape ``--log-format json`` gives.
        """
        need_systemd_python()
        world.write(world.mint_ours())
        with journald("dead") as place:
            completed = renewer_process(world, place, "--log-format", "journal", "run")

        assert completed.returncode == 0, completed.stderr
        first, *rest = completed.stderr.splitlines()
        assert first == (
            f"renewer: journald is not reachable ({JOURNAL_SOCKET} does not answer: "
            "Connection refused); logging JSON to stderr instead"
        )
        assert any('"event": "token.renewed"' in line for line in rest)

    def test_a_journald_that_stops_answering_mid_run_loses_no_event(self) -> None:
        """A send fails after the start: one notice, that event and every later one as JSON."""
        sent: list[str] = []

        def send(message: str, **fields: str) -> None:
            if len(sent) == 1:
                raise ConnectionRefusedError(111, "Connection refused")
            sent.append(message)

        stream = io.StringIO()
        logger = renewer_logging.JournalLogger(send, stream)
        for item in ("a", "b", "c"):
            event = {"event": "token.renewed", "level": "info", "item": item, "summary": item}
            args, fields = renewer_logging.render_journal(None, "info", event)
            logger.info(*args, **fields)

        assert sent == ["a"]
        notice, *events = stream.getvalue().splitlines()
        assert notice == (
            "renewer: journald is not reachable (sending failed: Connection refused); "
            "logging JSON to stderr instead"
        )
        assert [json.loads(line)["item"] for line in events] == ["b", "c"]
        assert all(json.loads(line)["event"] == "token.renewed" for line in events)


class TestFallback:
    @pytest.mark.floor(20)
    def test_without_a_socket_events_go_to_stderr_as_json(self, world: World) -> None:
        """No journald here: a notice naming why, then JSON events (a real process)."""
        try:
            import systemd.journal  # noqa: F401

            reason = f"no journal socket at {JOURNAL_SOCKET}"
        except ImportError:
            reason = "systemd-python is not installed"
        world.write(world.mint_ours())

        with journald("absent") as place:
            completed = renewer_process(world, place, "--log-format", "journal", "run")

        assert completed.returncode == 0, completed.stderr
        first, *rest = completed.stderr.splitlines()
        assert first == (
            f"renewer: journald is not reachable ({reason}); logging JSON to stderr instead"
        )
        assert any('"event": "token.renewed"' in line for line in rest)

    @pytest.mark.floor(20)
    def test_without_systemd_python_events_go_to_stderr_as_json(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The journal extra not installed: the same notice and fallback."""
        monkeypatch.setitem(sys.modules, "systemd", None)
        monkeypatch.setitem(sys.modules, "systemd.journal", None)
        stream = io.StringIO()
        try:
            renewer_logging.configure("journal", stream=stream)
            renewer_logging.get_logger().info("token.renewed", item="devvm", summary="OK renewed")
            active = renewer_logging.journal_active()
        finally:
            structlog.reset_defaults()

        first, second = stream.getvalue().splitlines()
        assert first == (
            "renewer: journald is not reachable (systemd-python is not installed); "
            "logging JSON to stderr instead"
        )
        assert '"event": "token.renewed"' in second
        assert not active


class TestStderr:
    def test_events_follow_sys_stderr_after_the_first_one_is_closed(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Configured under a capture that is closed later, logging writes to the stderr of now."""
        capture, later = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stderr", capture)
        try:
            renewer_logging.configure("json")
            capture.close()  # what click's CliRunner does after an invoke
            monkeypatch.setattr(sys, "stderr", later)
            renewer_logging.get_logger().info("token.renewed", item="devvm")
        finally:
            structlog.reset_defaults()

        assert '"event": "token.renewed"' in later.getvalue()


class TestJournalFields:
    def test_keys_are_upper_cased_and_prefixed(self) -> None:
        """item → RENEWER_ITEM; odd characters become _; no leading underscore."""
        fields = renewer_logging.journal_fields(
            {"event": "token.renewed", "level": "warning", "item": "devvm", "_x-y": 3}
        )
        assert fields["PRIORITY"] == "4"
        assert fields["RENEWER_EVENT"] == "token.renewed"
        assert fields["RENEWER_ITEM"] == "devvm"
        assert fields["RENEWER_X_Y"] == "3"

    def test_a_secret_nested_in_a_value_is_masked(self) -> None:
        """Redaction runs before, but a dict value only becomes text here: scrub again."""
        secret = "hvs." + "A" * 24
        register("nested-value-123")
        fields = renewer_logging.journal_fields(
            {"event": "x", "level": "info", "details": {"a": secret, "b": "nested-value-123"}}
        )
        assert secret not in fields["RENEWER_DETAILS"]
        assert "nested-value-123" not in fields["RENEWER_DETAILS"]


def test_the_parser_reads_both_framings() -> None:
    """A hand-made payload with a text field and a binary field."""
    value = b"line1\nline2"
    payload = b"MESSAGE=hi\nNOTE\n" + len(value).to_bytes(8, "little") + value + b"\n"
    assert parse_native(payload) == [("MESSAGE", "hi"), ("NOTE", "line1\nline2")]
