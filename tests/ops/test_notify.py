"""`renewer notify` (OnFailure=): journal at crit, notify-send, webhook; never a secret.

Real peers: a renewer process, the dev server, an HTTP receiver on 127.0.0.1,
journald's socket bound by the test. Every notify process runs with a
/run/systemd of the test's own (tests/ops/journald.py): no journald unless the
test gives it one, whatever else runs on the machine. ``notify-send`` is a
recording stand-in (tests/ops/stand_ins.py): no desktop session here.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from renewer.notify import build_report, webhook_label
from renewer.state import RunRecord
from tests import leakguard
from tests.integration.conftest import World
from tests.ops.journald import Entry, PrivateJournal, namespace_problem, private_journal
from tests.ops.stand_ins import calls, install_recorder, webhook_receiver

RENEWER = (sys.executable, "-m", "renewer")
NOTIFY_SECTION = """\
notify:
  webhook: {url}
  timeout: {timeout}
"""


@pytest.fixture
def journal() -> Iterator[PrivateJournal]:
    """journald's socket bound by the test (in the notify process's own /run/systemd).

    Without systemd-python renewer cannot send to it: the socket is left out and
    the test expects the stderr channel instead.
    """
    try:
        import systemd.journal  # noqa: F401
    except ImportError:
        with private_journal("absent") as place:
            yield place
        return
    with private_journal("listening") as place:
        yield place


@pytest.fixture(autouse=True)
def _private_run_systemd() -> None:
    problem = namespace_problem()
    if problem:
        pytest.skip(f"notify would meet whatever journald this machine has: {problem}")


def notify_config(world: World, *, url: str | None, timeout: str = "3s") -> Path:
    """The world's config plus a notify section, in a file of its own."""
    text = world.write_config().read_text()
    if url is not None:
        text += NOTIFY_SECTION.format(url=url, timeout=timeout)
    path = world.home / "notify-config.yaml"
    path.write_text(text)
    return path


def run_notify(
    home: Path,
    config: Path,
    *,
    bin_dir: Path,
    journal: PrivateJournal | None = None,
    close_stderr: bool = False,
    env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> tuple[int, str, str, list[Entry]]:
    """`renewer notify --unit renewer.service` as a process with *bin_dir* first on PATH.

    It sees *journal* as its /run/systemd; by default one without journald.
    """
    child_env = {k: v for k, v in os.environ.items() if k not in {"JOURNAL_STREAM", "VAULT_TOKEN"}}
    child_env.update({"HOME": str(home), "PATH": f"{bin_dir}:/usr/bin:/bin", **(env or {})})
    argv = [*RENEWER, "--config", str(config), "notify", "--unit", "renewer.service"]
    with contextlib.ExitStack() as stack:
        place = journal or stack.enter_context(private_journal("absent"))
        process = subprocess.Popen(
            place.argv([*argv, *extra_args]),
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if close_stderr:
            assert process.stderr is not None
            process.stderr.close()
            assert process.stdout is not None
            with process.stdout:
                out = process.stdout.read()
            process.wait(timeout=60)
            err = ""
        else:
            out, err = process.communicate(timeout=60)
        entries = place.collect(pids={process.pid})
    leakguard.scan("notify stdout", out)
    leakguard.scan("notify stderr", err)
    for entry in entries:
        leakguard.scan("notify journal entry", entry.as_text())
    return process.returncode, out, err, entries


@pytest.fixture
def drifted(world: World) -> World:
    """A world whose last run ended in DRIFT (exit 1), as before OnFailure= fires."""
    world.write(world.weak_clobber())
    assert world.cli("run").code == 1
    return world


class TestNotify:
    def test_a_drift_is_reported_on_every_channel(
        self,
        drifted: World,
        journal: PrivateJournal,
        make_secret: Callable[[str], str],
        tmp_path: Path,
    ) -> None:
        """Journal at crit, notify-send with the summary, one JSON POST; no secrets."""
        bin_dir = tmp_path / "bin"
        desktop = install_recorder(bin_dir, "notify-send", why="no desktop session bus")
        hook_path = "/hooks/" + make_secret("webhook-credential")  # a Slack-style URL
        with webhook_receiver() as receiver:
            config = notify_config(drifted, url=receiver.url(hook_path))
            code, out, err, entries = run_notify(
                drifted.home, config, bin_dir=bin_dir, journal=journal
            )

        assert code == 0, err
        channel = "journal" if journal.socket is not None else "stderr"
        assert out.splitlines() == [
            f"{channel}: sent",
            "desktop: sent",
            f"webhook: sent (http://127.0.0.1:{receiver.port})",
        ]
        (post,) = receiver.received
        assert post.path == hook_path
        body = post.json()
        assert set(body) == {"text", "host", "unit", "timestamp", "items", "notes", "test"}
        assert body["test"] is False
        assert body["unit"] == "renewer.service"
        assert body["host"] == os.uname().nodename
        assert time.strptime(body["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
        (item,) = body["items"]
        assert (item["name"], item["kind"], item["event"]) == ("devvm", "token", "token.drift")
        assert item["summary"].startswith("DRIFT devvm:")
        assert item["see"] == "runbooks/token-renewer.md#drift-heal-denied"
        leakguard.scan("webhook body", post.body)
        (argv,) = calls(desktop)
        assert argv[:3] == ["--urgency=critical", "--app-name=renewer", "--icon=dialog-error"]
        assert argv[4].startswith("token/devvm: DRIFT devvm:")
        leakguard.scan("notify-send argv", "\n".join(argv))
        if journal.socket is not None:
            (failed,) = [e for e in entries if e.get("RENEWER_EVENT") == "renewer.failed"]
            assert failed.get("PRIORITY") == "2"
            assert failed.get("SYSLOG_IDENTIFIER") == "renewer"
            assert failed.get("RENEWER_UNIT") == "renewer.service"
            assert (failed.get("MESSAGE") or "").startswith(
                f"renewer.service failed on {os.uname().nodename}: token/devvm: DRIFT devvm:"
            )
        else:
            assert '"level": "critical"' in err

    def test_a_failing_webhook_is_logged_and_notify_still_succeeds(
        self, drifted: World, tmp_path: Path
    ) -> None:
        """HTTP 500: the webhook line says so, a notify.failed event is logged, exit 0."""
        with webhook_receiver(status=500) as receiver:
            config = notify_config(drifted, url=receiver.url())
            code, out, err, _ = run_notify(drifted.home, config, bin_dir=tmp_path / "empty")

        assert code == 0
        assert f"webhook: FAILED (http://127.0.0.1:{receiver.port}: HTTP 500)" in out
        assert "could not notify by webhook" in err

    def test_a_slow_webhook_is_cut_off_at_the_timeout(self, drifted: World, tmp_path: Path) -> None:
        """notify.timeout bounds the POST; the other channels are not held up."""
        with webhook_receiver(delay=8) as receiver:
            config = notify_config(drifted, url=receiver.url(), timeout="1s")
            started = time.monotonic()
            code, out, _err, _ = run_notify(drifted.home, config, bin_dir=tmp_path / "empty")
            elapsed = time.monotonic() - started

        assert code == 0
        assert "no answer within 1s" in out
        assert elapsed < 6

    def test_a_failing_notify_send_is_not_fatal(self, drifted: World, tmp_path: Path) -> None:
        """notify-send exits 1 (no session bus): reported, and the journal still got it."""
        bin_dir = tmp_path / "bin"
        install_recorder(bin_dir, "notify-send", why="no desktop session bus")
        config = notify_config(drifted, url=None)
        code, out, _err, _ = run_notify(
            drifted.home, config, bin_dir=bin_dir, env={"FAKE_NOTIFY_SEND_EXIT": "1"}
        )
        assert code == 0
        assert "desktop: FAILED (exit 1" in out

    def test_nothing_delivered_exits_1(self, tmp_path: Path) -> None:
        """No journal, no notify-send, stderr closed, the webhook refused: exit 1."""
        with webhook_receiver() as receiver:
            url = receiver.url()
        config = tmp_path / "config.yaml"
        config.write_text(f"version: 1\nnotify:\n  webhook: {url}\n  timeout: 2s\n")
        code, out, _err, _ = run_notify(
            tmp_path, config, bin_dir=tmp_path / "empty", close_stderr=True
        )
        assert code == 1
        assert "webhook: FAILED (http://127.0.0.1:" in out
        assert out.startswith("stderr: FAILED")

    def test_a_test_notification_says_so_on_every_channel(
        self, world: World, tmp_path: Path
    ) -> None:
        """--test: nothing failed, the body says test, notify-send at normal urgency."""
        bin_dir = tmp_path / "bin"
        desktop = install_recorder(bin_dir, "notify-send", why="no desktop session bus")
        with webhook_receiver() as receiver:
            config = notify_config(world, url=receiver.url())
            code, out, err, _ = run_notify(
                world.home, config, bin_dir=bin_dir, extra_args=("--test",)
            )
        assert code == 0, err
        assert out.splitlines()[1:] == ["desktop: sent", f"webhook: sent ({receiver.url('')})"]
        (post,) = receiver.received
        assert post.json()["test"] is True
        assert post.json()["items"] == []
        assert post.json()["text"].startswith("test notification for renewer.service on ")
        assert calls(desktop)[0][0] == "--urgency=normal"
        assert out.splitlines()[0] == "stderr: sent"  # no journald in its /run/systemd
        assert '"event": "renewer.notify_test"' in err

    def test_a_broken_config_still_reaches_the_journal(
        self, journal: PrivateJournal, tmp_path: Path
    ) -> None:
        """notify must work when the failure *is* the config: journal and desktop only."""
        config = tmp_path / "config.yaml"
        config.write_text("version: 1\ntokens: nope\n")
        code, out, err, entries = run_notify(
            tmp_path, config, bin_dir=tmp_path / "empty", journal=journal
        )
        assert code == 0, err
        if journal.socket is None:  # no systemd-python: stderr stands in for the journal
            assert out.splitlines()[0] == "stderr: sent"
            assert "config: " in err
            return
        assert out.splitlines()[0] == "journal: sent"
        (failed,) = [e for e in entries if e.get("RENEWER_EVENT") == "renewer.failed"]
        assert failed.get("PRIORITY") == "2"
        assert "config: " in (failed.get("MESSAGE") or "")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def monitor(status: str, invocation: str, code: str = "exited") -> dict[str, str]:
    """What systemd 252 passes an OnFailure= unit (seen in tests/usermanager/)."""
    return {
        "MONITOR_SERVICE_RESULT": "exit-code",
        "MONITOR_EXIT_CODE": code,
        "MONITOR_EXIT_STATUS": status,
        "MONITOR_INVOCATION_ID": invocation,
        "MONITOR_UNIT": "renewer.service",
    }


class TestFailureHandler:
    """`renewer notify` started by OnFailure=: retry exit 75, report the rest.

    systemctl is a recording stand-in here; tests/usermanager/ runs the same
    against a real user manager, where the retry timer really fires.
    """

    @pytest.fixture
    def temporary(self, world: World) -> World:
        """A world whose last run (invocation inv-75) could not reach Vault: exit 75."""
        world.write(world.mint_ours())
        world.addr = f"http://127.0.0.1:{closed_port()}"
        world.deadline = "1s"
        assert world.cli("run", env={"INVOCATION_ID": "inv-75"}).code == 75
        return world

    def test_exit_75_arms_one_retry_and_tells_no_one(
        self, temporary: World, tmp_path: Path
    ) -> None:
        bin_dir = tmp_path / "bin"
        systemctl = install_recorder(bin_dir, "systemctl", why="no user manager needed here")
        with webhook_receiver() as receiver:
            config = notify_config(temporary, url=receiver.url())
            code, out, err, _ = run_notify(
                temporary.home, config, bin_dir=bin_dir, env=monitor("75", "inv-75")
            )

        assert code == 0, err
        assert receiver.received == []
        stop, start = calls(systemctl)
        assert stop == ["--user", "stop", "renewer-retry@*.timer"]
        assert start[:2] == ["--user", "start"]
        delay = int(re.fullmatch(r"renewer-retry@(\d+)\.timer", start[2]).group(1))  # type: ignore[union-attr]
        assert 150 <= delay <= 300  # attempt 1: within the second half of run.retry.first
        assert out.startswith(
            "retry: renewer.service failed temporarily (exit 75); retry 1 of 6 in "
        )

    def test_a_start_that_never_ran_is_reported_and_pending_retries_cancelled(
        self, temporary: World, tmp_path: Path
    ) -> None:
        """226/NAMESPACE: the run recorded nothing; systemd's verdict is the report."""
        bin_dir = tmp_path / "bin"
        systemctl = install_recorder(bin_dir, "systemctl", why="no user manager needed here")
        with webhook_receiver() as receiver:
            config = notify_config(temporary, url=receiver.url())
            code, _out, err, _ = run_notify(
                temporary.home, config, bin_dir=bin_dir, env=monitor("226", "inv-226")
            )

        assert code == 0, err
        (post,) = receiver.received
        assert any("exit 226/NAMESPACE" in note for note in post.json()["notes"])
        assert calls(systemctl) == [["--user", "stop", "renewer-retry@*.timer"]]

    def test_a_retry_that_cannot_be_armed_is_reported_instead(
        self, temporary: World, tmp_path: Path
    ) -> None:
        bin_dir = tmp_path / "bin"
        install_recorder(bin_dir, "systemctl", why="no user manager needed here")
        with webhook_receiver() as receiver:
            config = notify_config(temporary, url=receiver.url())
            code, _out, err, _ = run_notify(
                temporary.home,
                config,
                bin_dir=bin_dir,
                env={**monitor("75", "inv-75"), "FAKE_SYSTEMCTL_EXIT": "1"},
            )

        assert code == 0, err
        (post,) = receiver.received
        assert any("could not schedule a retry" in note for note in post.json()["notes"])
        assert [item["event"] for item in post.json()["items"]] == ["vault.unreachable"]


class TestReport:
    def test_failing_items_and_renewer_wide_reasons_are_kept_apart(self) -> None:
        """Items carry their event; 'never completed a run' is a note."""
        record = RunRecord(
            items={
                "token/devvm": {
                    "kind": "token",
                    "name": "devvm",
                    "healthy": False,
                    "event": "token.drift",
                    "summary": "DRIFT devvm: ...",
                }
            }
        )
        report = build_report(record, unit="renewer.service", host="vm1", now=1000.0)
        assert [item.key for item in report.items] == ["token/devvm"]
        assert report.notes == ("renewer has never completed a run",)
        assert report.message().startswith("renewer.service failed on vm1: token/devvm: DRIFT")

    def test_a_run_that_recorded_nothing_says_where_to_look(self) -> None:
        """The run died before recording: point at the unit's journal."""
        record = RunRecord(items={}, last_run={"finished_at": 1000.0, "exit_code": 0})
        report = build_report(record, unit="renewer.service", host="vm1", now=1001.0)
        assert report.items == ()
        assert "journalctl --user -u renewer.service" in report.notes[0]

    def test_only_scheme_and_host_of_a_webhook_are_ever_shown(self) -> None:
        """The path and query may hold a credential."""
        assert webhook_label("https://hooks.example.com/T0/B1/secret?x=1") == (
            "https://hooks.example.com"
        )
        assert webhook_label("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080"
