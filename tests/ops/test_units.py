"""The shipped units: what issues #4 and #17 ask of them, and systemd's own verdict.

``systemd-analyze verify`` checks the files as shipped; the only complaint it
may have is that ``%h/.local/share/renewer/venv/bin/renewer`` does not exist
yet (install.sh creates it). tests/ops/test_install.py verifies the installed
copies, with a real venv behind ``ExecStart=``, and requires them clean.
What the units *do* under a real user manager (retries, manual starts, the
failure handler, each sandbox line) is tested in tests/usermanager/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS_DIR = Path(__file__).resolve().parents[2] / "units"
UNITS = ("renewer.service", "renewer.timer", "renewer-notify@.service", "renewer-retry@.timer")
# Lines that need a user namespace in a user manager (PrivateUsers= builds one): without
# it they are ignored or fail the start (218/CAPABILITIES, 226/NAMESPACE).
NEEDS_NAMESPACE = frozenset(
    {
        "PrivateUsers",
        "ProtectSystem",
        "ProtectHome",
        "ReadWritePaths",
        "PrivateTmp",
        "PrivateDevices",
        "PrivateMounts",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "ProtectClock",
        "ProtectHostname",
        "ProtectProc",
        "ProcSubset",
        "CapabilityBoundingSet",
    }
)
NOT_YET_INSTALLED = re.compile(
    r"^renewer(-notify@\w+)?\.service: Command \S+/\.local/share/renewer/venv/bin/renewer "
    r"is not executable: No such file or directory$"
)


def directives(unit: str) -> list[tuple[str, str, str]]:
    """(section, key, value) for every directive, in order; keys may repeat."""
    section = ""
    found = []
    for line in (UNITS_DIR / unit).read_text().splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            found.append((section, key, value))
    return found


def values(unit: str, section: str, key: str) -> list[str]:
    return [v for s, k, v in directives(unit) if (s, k) == (section, key)]


def verifiable(directory: Path, units_dir: Path = UNITS_DIR) -> list[str]:
    """The unit files to verify; the retry template as an instance (``%i`` is its delay).

    ``systemd-analyze verify`` instantiates a template with ``i``, and ``OnActiveSec=i``
    is no time span: renewer-notify@ starts it as renewer-retry@<seconds>.timer.
    """
    instance = directory / "renewer-retry@300.timer"
    instance.write_text((units_dir / "renewer-retry@.timer").read_text())
    return [str(units_dir / unit) for unit in UNITS if unit != "renewer-retry@.timer"] + [
        str(instance)
    ]


def analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not installed")
    return path


class TestVerify:
    def test_verify_only_misses_the_program_install_sh_creates(self, tmp_path: Path) -> None:
        home = tmp_path / "home"
        home.mkdir()
        completed = subprocess.run(
            [analyze(), "verify", "--user", *verifiable(tmp_path)],
            env={"HOME": str(home), "XDG_RUNTIME_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        complaints = (completed.stdout + completed.stderr).splitlines()
        assert complaints, "expected the missing venv to be noticed"
        unexpected = [line for line in complaints if not NOT_YET_INSTALLED.match(line)]
        assert unexpected == []

    @pytest.mark.parametrize(
        ("unit", "highest"), [("renewer.service", 2.0), ("renewer-notify@.service", 6.5)]
    )
    def test_exposure_stays_low(self, unit: str, highest: float, tmp_path: Path) -> None:
        """systemd-analyze --user security: 1.7 and 6.2 when written.

        The handler's score counts the capabilities of a root service; as a user
        service it holds none, and it does without the namespace lines on purpose
        (TestFailureHandler).
        """
        completed = subprocess.run(
            [analyze(), "--user", "security", "--offline=yes", str(UNITS_DIR / unit)],
            env={"HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )
        score = re.search(r"Overall exposure level for \S+: (\d+\.\d)", completed.stdout)
        assert score is not None, completed.stdout + completed.stderr
        assert float(score.group(1)) <= highest


class TestService:
    def test_a_oneshot_into_the_installed_venv_documented_by_the_runbook(self) -> None:
        assert values("renewer.service", "Service", "Type") == ["oneshot"]
        assert values("renewer.service", "Service", "ExecStart") == [
            "%h/.local/share/renewer/venv/bin/renewer run"
        ]
        docs = values("renewer.service", "Unit", "Documentation")
        assert "file://%h/.local/share/renewer/runbooks/token-renewer.md" in docs

    def test_no_restart_so_a_manual_start_never_waits(self) -> None:
        """Restart= would make a manual start wait for a pending restart (systemd 252)."""
        for key in ("Restart", "RestartSec", "RestartPreventExitStatus", "RestartForceExitStatus"):
            assert values("renewer.service", "Service", key) == [], key
        for key in ("StartLimitBurst", "StartLimitIntervalSec"):
            assert values("renewer.service", "Unit", key) == [], key  # systemd's default stays

    def test_a_success_cancels_a_pending_retry(self) -> None:
        assert values("renewer.service", "Service", "ExecStartPost") == [
            "-systemctl --user stop renewer-retry@*.timer"
        ]

    def test_a_failure_starts_the_handler_under_the_documented_name(self) -> None:
        """%N: renewer-notify@renewer.service, not renewer-notify@renewer.service.service."""
        assert values("renewer.service", "Unit", "OnFailure") == ["renewer-notify@%N.service"]
        assert values("renewer-notify@.service", "Service", "ExecStart") == [
            "%h/.local/share/renewer/venv/bin/renewer notify --unit %i.service"
        ]
        assert values("renewer-notify@.service", "Unit", "OnFailure") == []  # no loops

    def test_every_hardening_line_says_when_to_relax_it(self) -> None:
        """In the sandboxing block, each directive sits under a comment that says so."""
        lines = (UNITS_DIR / "renewer.service").read_text().splitlines()
        block = lines[next(i for i, line in enumerate(lines) if "Sandboxing" in line) :]
        comment: list[str] = []
        after_directive = False
        uncovered = []
        for line in block:
            if line.startswith("#"):
                comment = [line] if after_directive else [*comment, line]
                after_directive = False
            elif line:
                if "relax" not in " ".join(comment).lower():
                    uncovered.append(line)
                after_directive = True
        assert uncovered == []
        assert "PrivateUsers=yes" in block  # without it a user manager ignores the rest


class TestFailureHandler:
    def test_it_needs_no_namespace_so_it_runs_when_the_service_cannot(self) -> None:
        """226/NAMESPACE stops renewer.service; the handler must still report it."""
        keys = {key for section, key, _ in directives("renewer-notify@.service")}
        assert keys & NEEDS_NAMESPACE == set()
        assert {"NoNewPrivileges", "SystemCallFilter", "RestrictNamespaces"} <= keys

    def test_neither_service_claims_proc_lines_a_user_manager_ignores(self) -> None:
        """ProtectProc=/ProcSubset= are for system services only (systemd.exec(5))."""
        for unit in ("renewer.service", "renewer-notify@.service"):
            keys = {key for _, key, _ in directives(unit)}
            assert keys & {"ProtectProc", "ProcSubset"} == set(), unit


class TestRetryTimer:
    def test_one_shot_after_its_instance_delay_starting_the_service(self) -> None:
        timer = {k: v for s, k, v in directives("renewer-retry@.timer") if s == "Timer"}
        assert timer == {
            "OnActiveSec": "%i",
            "AccuracySec": "1s",
            "RemainAfterElapse": "no",
            "Unit": "renewer.service",
        }
        assert not [d for d in directives("renewer-retry@.timer") if d[0] == "Install"]


@pytest.mark.floor(19)
class TestTimer:
    def test_daily_and_after_boot_persistent_and_spread(self) -> None:
        timer = {k: v for s, k, v in directives("renewer.timer") if s == "Timer"}
        assert timer["OnCalendar"] == "daily"
        assert timer["OnBootSec"] == "2min"
        assert timer["Persistent"] == "true"
        assert timer["RandomizedDelaySec"] == "30min"
        assert timer["AccuracySec"] == "1s"
        assert values("renewer.timer", "Install", "WantedBy") == ["timers.target"]
