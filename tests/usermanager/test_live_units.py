"""The shipped units under a real ``systemd --user`` (systemd 252), as a devvm user lives them.

Real peers only: the user manager and journald (tests/usermanager/manager.py),
install.sh run by the user from a checkout in their home, the session's Vault
peer (OpenBao when ``bao`` is on PATH), a webhook receiver on 127.0.0.1. The
scenes follow the card: install → start → renewed; a weak clobber → failed and
reported; an admin clobber → healed by the sandboxed service; exit 75 →
retried with backoff, and a manual start meanwhile runs at once; a start that
can never succeed → reported; what ``status`` says of the schedule is what
systemd says; each sandbox line does what the docs say it does; uninstall.

The install is slow (a venv), so it happens once per session (conftest.py,
shared with the runbook's systemd blocks); every scene after it first puts the
world back (our token, the standard config, nothing failed or pending) and so
does not depend on the scene before it. Uninstalling comes last.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import leakguard
from tests.ops.stand_ins import WebhookReceiver
from tests.usermanager.conftest import Installed
from tests.usermanager.devvm import Devvm, wait_for

PROBE = Path(__file__).with_name("probe.py")
EROFS = os.strerror(30)  # "Read-only file system"
EPERM = os.strerror(1)  # "Operation not permitted": SystemCallErrorNumber=EPERM


def free_closed_port() -> int:
    """A loopback port nothing listens on: Vault "down" (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def posts(receiver: WebhookReceiver, since: int) -> list[dict[str, Any]]:
    return [entry.json() for entry in receiver.received[since:]]


def notify_finished(devvm: Devvm) -> bool:
    shown = devvm.show("renewer-notify@renewer.service", "ActiveState", "Result")
    return shown.get("ActiveState") in {"inactive", "failed"} and bool(shown.get("Result"))


def retry_timers(devvm: Devvm) -> dict[str, dict[str, Any]]:
    return {unit: t for unit, t in devvm.timers().items() if unit.startswith("renewer-retry@")}


class TestInstall:
    def test_a_config_with_nothing_to_keep_alive_does_not_enable_the_timer(
        self, first: Installed
    ) -> None:
        """check passes with "tokens: none configured"; a timer doing nothing is not enabled."""
        assert first.code == 0, first.out
        assert "warn  tokens: none configured" in first.out
        assert "the config has nothing to keep alive yet, so the timer is not enabled" in first.out
        assert first.enabled == "disabled"

    def test_the_checkout_is_left_as_it_was(self, first: Installed) -> None:
        """The venv is built from a copy: no build/ or renewer.egg-info/ in the checkout."""
        assert first.source_after == first.source_before

    def test_a_config_that_passes_check_enables_the_timer(
        self, second: Installed, devvm: Devvm
    ) -> None:
        assert second.code == 0, second.out
        assert "enabled renewer.timer" in second.out
        assert second.enabled == "enabled"
        assert devvm.systemctl("is-active", "renewer.timer").stdout.strip() == "active"


class TestRuns:
    def test_a_start_renews_and_journald_has_the_fields(self, live: Devvm) -> None:
        started = live.start()

        assert started.returncode == 0, started.stderr
        state = live.state()
        item = state["items"]["token/devvm"]
        assert (item["outcome"], item["event"]) == ("OK", "token.renewed")
        shown = live.show("renewer.service", "InvocationID", "Result")
        assert shown["Result"] == "success"
        assert state["last_run"]["invocation"] == shown["InvocationID"]
        entry = live.journal("RENEWER_EVENT=token.renewed")[-1]
        assert entry["_SYSTEMD_USER_UNIT"] == "renewer.service"
        assert entry["SYSLOG_IDENTIFIER"] == "renewer"
        assert entry["PRIORITY"] == "6"
        assert (entry["RENEWER_ITEM"], entry["RENEWER_KIND"], entry["RENEWER_OUTCOME"]) == (
            "devvm",
            "token",
            "OK",
        )
        assert entry["MESSAGE"].startswith(f"OK renewed devvm (token-{live.display}, ttl 32d")

    def test_status_shows_the_next_elapse_systemd_computes(self, live: Devvm) -> None:
        """The earlier of the calendar and the monotonic trigger, as list-timers has it."""
        status = live.renewer("status", "--json")
        report = json.loads(status.stdout)
        elapse = live.timers()["renewer.timer"]["next"] / 1e6

        assert report["timer"]["enabled"] == "enabled"
        assert report["timer"]["timer_next_at"] == pytest.approx(elapse, abs=1)
        assert report["timer"]["next_run_at"] == pytest.approx(elapse, abs=1)
        human = live.renewer("status").stdout
        line = next(line for line in human.splitlines() if line.startswith("timer:"))
        assert f"next run {report['timer']['next_run'][:16]}" in line

    def test_a_weak_clobber_fails_and_the_handler_reports_it(
        self, live: Devvm, receiver: WebhookReceiver
    ) -> None:
        weak = live.weak_clobber()
        live.write_token(weak)
        since = len(receiver.received)

        started = live.start()

        assert started.returncode != 0
        shown = live.show("renewer.service", "Result", "ExecMainStatus")
        assert (shown["Result"], shown["ExecMainStatus"]) == ("exit-code", "1")
        (body,) = wait_for(
            "the webhook report", lambda: posts(receiver, since) or None, context=live.tail
        )
        assert body["unit"] == "renewer.service"
        assert [item["event"] for item in body["items"]] == ["token.drift"]
        assert live.token_file.read_text() == weak  # left untouched
        wait_for("the handler to finish", lambda: notify_finished(live), context=live.tail)
        assert live.show("renewer-notify@renewer.service", "Result")["Result"] == "success"
        assert retry_timers(live) == {}  # a person is needed: no retry
        failed = live.journal("RENEWER_EVENT=renewer.failed")[-1]
        assert failed["PRIORITY"] == "2"
        assert failed["_SYSTEMD_USER_UNIT"] == "renewer-notify@renewer.service"

    def test_an_admin_clobber_is_healed_by_the_sandboxed_service(self, live: Devvm) -> None:
        clobber = live.admin_clobber()
        live.write_token(clobber)

        started = live.start()

        assert started.returncode == 0, started.stderr
        token = live.token_file.read_text().strip()
        leakguard.remember(token)
        assert token != clobber
        info = live.lookup(token)
        assert info is not None and info["display_name"] == f"token-{live.display}"
        written = live.token_file.stat()
        assert (written.st_uid, stat.S_IMODE(written.st_mode)) == (live.manager.uid, 0o600)
        assert live.state()["items"]["token/devvm"]["event"] == "token.healed"
        assert live.lookup(clobber) is not None  # the login's token is never revoked


class TestTemporaryFailures:
    def test_exit_75_is_retried_with_backoff_then_reported(
        self, live: Devvm, receiver: WebhookReceiver
    ) -> None:
        """Two retries (1-2 s, then 2-4 s after), each a real start by the retry timer."""
        live.configure(
            addr=f"http://127.0.0.1:{free_closed_port()}",
            deadline="2s",
            retry_first="2s",
            retry_max="4s",
            retry_attempts=2,
        )
        since = len(receiver.received)

        assert live.start().returncode != 0

        (body,) = wait_for(
            "the report after the retries",
            lambda: posts(receiver, since) or None,
            context=live.tail,
        )
        assert any("temporary failures in 3 consecutive runs" in note for note in body["notes"])
        last_run = live.state()["last_run"]
        assert (last_run["exit_code"], last_run["temporary_streak"]) == (75, 3)
        scheduled = live.journal("RENEWER_EVENT=retry.scheduled")[-2:]
        assert [entry["RENEWER_ATTEMPT"] for entry in scheduled] == ["1", "2"]
        wait_for("the handler to finish", lambda: notify_finished(live), context=live.tail)
        assert retry_timers(live) == {}
        assert len(posts(receiver, since)) == 1  # retries are silent; one report at the end

    def test_after_exit_75_a_manual_start_runs_at_once(
        self, live: Devvm, receiver: WebhookReceiver
    ) -> None:
        """The retry is 5-10 minutes away; the manual start does not wait for it."""
        live.configure(
            addr=f"http://127.0.0.1:{free_closed_port()}", deadline="2s", retry_first="10m"
        )
        since = len(receiver.received)
        assert live.start().returncode != 0
        armed = wait_for("the retry timer", lambda: retry_timers(live) or None, context=live.tail)
        wait_for("the handler to finish", lambda: notify_finished(live), context=live.tail)
        ((unit, timer),) = armed.items()
        assert re.fullmatch(r"renewer-retry@\d+\.timer", unit)
        report = json.loads(live.renewer("status", "--json").stdout)
        assert report["timer"]["retry"]["unit"] == unit
        assert report["timer"]["retry"]["at"] == pytest.approx(timer["next"] / 1e6, abs=1)
        earliest = min(timer["next"], live.timers()["renewer.timer"]["next"]) / 1e6
        assert report["timer"]["next_run_at"] == pytest.approx(earliest, abs=1)
        assert not any("failed state" in entry["reason"] for entry in report["attention"])
        assert posts(receiver, since) == []  # temporary: nobody is paged yet

        live.configure()  # Vault is back
        started = live.systemctl("start", "renewer.service", timeout=120)  # < the retry's 300 s

        assert started.returncode == 0, started.stderr
        assert retry_timers(live) == {}  # the successful run cancelled the pending retry
        last_run = live.state()["last_run"]
        assert (last_run["exit_code"], last_run["temporary_streak"]) == (0, 0)

    def test_a_start_that_can_never_succeed_is_reported_not_retried(
        self, live: Devvm, receiver: WebhookReceiver
    ) -> None:
        """A drop-in naming a missing ReadWritePaths= directory: 226/NAMESPACE on every start."""
        drop_in = live.manager.write(
            ".config/systemd/user/renewer.service.d/sink.conf",
            f"[Service]\nReadWritePaths=/srv/renewer-missing-{live.manager.uid}\n",
            mode=0o644,
        )
        live.systemctl("daemon-reload")
        since = len(receiver.received)
        try:
            assert live.start().returncode != 0

            assert live.show("renewer.service", "ExecMainStatus")["ExecMainStatus"] == "226"
            (body,) = wait_for(
                "the webhook report", lambda: posts(receiver, since) or None, context=live.tail
            )
            assert any("exit 226/NAMESPACE" in note for note in body["notes"]), body
            wait_for("the handler to finish", lambda: notify_finished(live), context=live.tail)
            assert retry_timers(live) == {}
        finally:
            drop_in.unlink()
            drop_in.parent.rmdir()
            live.systemctl("daemon-reload")


def probe_unit(live: Devvm, name: str, *, extra: str = "") -> dict[str, Any]:
    """Run tests/usermanager/probe.py under renewer.service's own sandbox; its findings."""
    manager = live.manager
    other = Path("/home") / f"renewer-um-other-{manager.uid}"
    markers = [Path(tmp) / f"renewer-probe-{manager.uid}" for tmp in ("/tmp", "/var/tmp")]
    other.mkdir(mode=0o777, exist_ok=True)
    other.chmod(0o1777)  # writable by the user without a sandbox: only the sandbox says no
    for marker in markers:
        marker.write_text("visible?")
    probe = manager.write("probe.py", PROBE.read_text(), mode=0o644)
    output = live.home / f"{name}.json"
    installed = (live.home / ".config" / "systemd" / "user" / "renewer.service").read_text()
    kept = [
        line
        for line in installed.splitlines()
        if not line.startswith(("ExecStart=", "ExecStartPost=", "OnFailure="))
    ]
    python = live.home / ".local" / "share" / "renewer" / "venv" / "bin" / "python"
    command = f"ExecStart={python} {probe} {output} {other} {markers[0]} {markers[1]}"
    text = "\n".join(kept).replace("[Service]", f"[Service]\n{command}\n{extra}", 1)
    unit = manager.write(f".config/systemd/user/{name}.service", text + "\n", mode=0o644)
    try:
        live.systemctl("daemon-reload")
        started = live.systemctl("start", f"{name}.service")
        assert started.returncode == 0, started.stderr
        found: dict[str, Any] = json.loads(output.read_text())
        return found
    finally:
        for path in (unit, probe, output, *markers):
            path.unlink(missing_ok=True)
        other.rmdir()
        live.systemctl("daemon-reload")


class TestSandbox:
    def test_each_line_of_the_sandbox_takes_effect_in_the_user_manager(self, live: Devvm) -> None:
        """What docs/operations.md promises per line, observed from inside the unit."""
        found = probe_unit(live, "renewer-probe")

        assert found["home"] == "ok"  # ReadWritePaths=%h
        assert (found["usr"], found["etc"]) == (EROFS, EROFS)  # ProtectSystem=strict
        assert found["other_dir"] == EROFS  # ProtectHome=read-only
        assert not found["tmp_marker_visible"]  # PrivateTmp=yes
        assert not found["var_tmp_marker_visible"]
        assert found["block_devices"] == []  # PrivateDevices=yes
        assert not found["kmsg_visible"]  # ProtectKernelLogs=yes
        assert found["proc_sys_read_only"]  # ProtectKernelTunables=yes
        assert found["cgroup"] == EROFS  # ProtectControlGroups=yes
        if Path("/usr/lib/modules").is_dir():
            assert found["modules"] != "ok"  # ProtectKernelModules=yes
        assert found["no_new_privs"] == "1"  # NoNewPrivileges=yes
        assert found["umask"] == "0077"  # UMask=0077
        assert found["capability_bounding_set"] == "0000000000000000"  # CapabilityBoundingSet=
        uid = str(live.manager.uid)
        assert found["uid_map"] == f"{uid} {uid} 1"  # PrivateUsers=yes: only yourself mapped
        assert found["unshare_user_namespace"] == EPERM  # RestrictNamespaces=yes
        assert found["sethostname"] == EPERM  # ProtectHostname=yes
        assert found["write_execute_memory"] == EPERM  # MemoryDenyWriteExecute=yes
        assert found["netlink_socket"] == os.strerror(97)  # RestrictAddressFamilies=
        assert found["inet_socket"] == "ok"  # Vault is reachable
        assert found["lower_own_priority"] == EPERM  # SystemCallFilter=~@resources
        assert found["personality_linux32"] == EPERM  # LockPersonality=yes

    def test_protect_proc_and_proc_subset_change_nothing_in_a_user_manager(
        self, live: Devvm
    ) -> None:
        """Why the units leave them out: /proc stays as it is, whatever systemd-analyze says."""
        extra = "ProtectProc=invisible\nProcSubset=pid"
        found = probe_unit(live, "renewer-proc-probe", extra=extra)

        assert found["pid1_visible"]  # not hidden (hidepid=invisible would)
        assert found["other_users_pids"] > 0
        assert found["meminfo_visible"]  # not hidden (subset=pid would)

    def test_while_systemd_analyze_credits_them(self, tmp_path: Path) -> None:
        """The claim the docs warn about: ✓ for both, in a user unit's analysis."""
        unit = tmp_path / "claims.service"
        unit.write_text("[Service]\nExecStart=/bin/true\nProtectProc=invisible\nProcSubset=pid\n")
        analysis = subprocess.run(
            ["systemd-analyze", "--user", "security", "--offline=yes", str(unit)],
            env={"HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        claimed = [line.split()[1] for line in analysis.stdout.splitlines() if line.startswith("✓")]
        assert {"ProtectProc=", "ProcSubset="} <= set(claimed), analysis.stdout


def test_the_users_state_files_hold_no_secret(live: Devvm) -> None:
    """The session-end scan covers the temp tree; this home is under /home."""
    scanned, found = leakguard.stray_secrets(live.home, leakguard.session_remembered())
    assert scanned > 0
    assert found == []


@pytest.fixture(scope="module")
def purged(devvm: Devvm, second: Installed) -> tuple[int, str]:
    completed = devvm.install("--uninstall", "--purge")
    return completed.returncode, completed.stdout + completed.stderr


def test_uninstall_purge_leaves_nothing_but_the_users_files(
    purged: tuple[int, str], devvm: Devvm, first: Installed
) -> None:
    """No unit, no timer, no empty directory: the home as the user had it (checkout, token)."""
    code, out = purged
    assert code == 0, out
    listed = devvm.systemctl("list-unit-files", "renewer*", "--no-legend").stdout
    assert listed.strip() == ""
    assert not [unit for unit in devvm.timers() if unit.startswith("renewer")]
    left = {
        str(path.relative_to(devvm.home))
        for path in devvm.home.rglob("*")
        if not path.is_relative_to(devvm.source)
    }
    assert left == {"src", ".vault-token"}
    assert devvm.source_files() == first.source_before
