"""install.sh in a throwaway HOME: install, install again, uninstall, purge.

Everything is real except two binaries that cannot run on a test machine:
``systemctl`` and ``loginctl`` are recording stand-ins (tests/ops/stand_ins.py)
first on PATH, because there is no systemd user manager here. The venv is
real (pip, the machine's wheel cache), and the installed unit's ``ExecStart=``
line is executed for real against the session's Vault peer.

Creating the venv is the slow part (~20 s), so it happens once: the stages
are module fixtures that build on each other, in the order a person would go
(first install → edit the config → install again → ... → uninstall → purge).
Each stage records what it saw, so a test of an earlier stage is not affected
by a later one. Tests are in stage order; run alone, a test still gets every
stage it depends on.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import leakguard
from tests.integration.conftest import ADMIN, SOPS
from tests.ops.stand_ins import calls, install_recorder
from tests.ops.test_units import verifiable
from tests.vaultpeer import VaultPeer, unique

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "install.sh"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
UNITS = ("renewer.service", "renewer.timer", "renewer-notify@.service", "renewer-retry@.timer")

USER_CONFIG = """\
version: 1
vault:
  addr: {addr}
tokens:
  - name: devvm
    path: ~/.vault-token
    expect:
      display_name: token-{display}
      policies: [{admin}]
    mint:
      display_name: {display}
      policies: [{admin}, {sops}]
      period: 768h
"""


@dataclass
class Home:
    """A throwaway HOME with XDG dirs, a runtime dir and the stand-ins' bin dir."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def data(self) -> Path:
        return self.home / ".local" / "share" / "renewer"

    @property
    def venv(self) -> Path:
        return self.data / "venv"

    @property
    def config_dir(self) -> Path:
        return self.home / ".config" / "renewer"

    @property
    def config(self) -> Path:
        return self.config_dir / "config.yaml"

    @property
    def state_dir(self) -> Path:
        return self.home / ".local" / "state" / "renewer"

    @property
    def unit_dir(self) -> Path:
        return self.home / ".config" / "systemd" / "user"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a login shell in this home (pip keeps the machine's setup)."""
        passed = {
            key: value
            for key, value in os.environ.items()
            if key.startswith("PIP_")
            or key.lower() in {"http_proxy", "https_proxy", "no_proxy", "lang", "lc_all"}
            or key in {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"}
        }
        real_home = Path(os.environ.get("HOME", "/root"))
        passed.setdefault("PIP_CACHE_DIR", str(real_home / ".cache" / "pip"))
        pip_conf = real_home / ".config" / "pip" / "pip.conf"
        if pip_conf.exists():
            passed.setdefault("PIP_CONFIG_FILE", str(pip_conf))
        passed["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        (self.root / "run").mkdir(mode=0o700, exist_ok=True)
        return {
            **passed,
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "PYTHON": BASE_PYTHON,
            **extra,
        }

    def files(self) -> set[str]:
        """Every file and link under HOME, relative to it."""
        return {
            str(path.relative_to(self.home))
            for path in self.home.rglob("*")
            if path.is_file() or path.is_symlink()
        }

    def dirs(self) -> set[str]:
        """Every directory under HOME, relative to it."""
        return {
            str(path.relative_to(self.home))
            for path in self.home.rglob("*")
            if path.is_dir() and not path.is_symlink()
        }


@dataclass
class Stage:
    """What one run of install.sh did."""

    code: int
    out: str
    systemctl: list[list[str]]
    config: bytes = b""
    units: dict[str, str] = field(default_factory=dict)
    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)


def run_install(home: Home, *args: str, **env: str) -> Stage:
    """Run install.sh once; return its result and what the stand-ins recorded."""
    systemctl = home.bin / "systemctl.calls"
    systemctl.unlink(missing_ok=True)
    completed = subprocess.run(
        ["sh", str(INSTALL), *args],
        env=home.env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    leakguard.scan("install.sh output", completed.stdout)
    return Stage(
        code=completed.returncode,
        out=completed.stdout,
        systemctl=calls(systemctl),
        config=home.config.read_bytes() if home.config.exists() else b"",
        units={
            unit: (home.unit_dir / unit).read_text()
            for unit in UNITS
            if (home.unit_dir / unit).exists()
        },
        files=home.files(),
        dirs=home.dirs(),
    )


def make_home(root: Path) -> Home:
    home = Home(root)
    home.home.mkdir(parents=True)
    install_recorder(home.bin, "systemctl", why="no systemd user manager on a test machine")
    install_recorder(home.bin, "loginctl", why="no logind on a test machine")
    return home


# --- the stages, in order -----------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return make_home(tmp_path_factory.mktemp("install"))


@pytest.fixture(scope="module")
def display() -> str:
    return unique("devvm")


@pytest.fixture(scope="module")
def first(home: Home, vault_peer: VaultPeer) -> Stage:
    """A first install: no config yet, $VAULT_ADDR set, a user manager reachable."""
    return run_install(home, VAULT_ADDR=vault_peer.addr, FAKE_LOGINCTL_STDOUT="no\n")


@pytest.fixture(scope="module")
def second(home: Home, first: Stage, vault_peer: VaultPeer, display: str) -> Stage:
    """The user wrote a real config (but no token yet); install again, manager reachable."""
    home.config.write_text(
        USER_CONFIG.format(addr=vault_peer.addr, display=display, admin=ADMIN, sops=SOPS)
    )
    return run_install(home)


@pytest.fixture(scope="module")
def third(home: Home, second: Stage, vault_peer: VaultPeer, policies: None, display: str) -> Stage:
    """Our token is in place now; install a third time: check passes, the timer is enabled."""
    response = vault_peer.request(
        "POST",
        "auth/token/create",
        json={
            "policies": [ADMIN, SOPS],
            "period": "768h",
            "display_name": display,
            "no_parent": True,
        },
    )
    assert response.status_code == 200, response.text
    token = response.json()["auth"]["client_token"]
    leakguard.remember(token)
    (home.home / ".vault-token").write_text(token)
    (home.home / ".vault-token").chmod(0o600)
    return run_install(home)


@pytest.fixture(scope="module")
def fourth(home: Home, third: Stage) -> Stage:
    """Once more, from where no user manager is reachable (sudo -u, a container)."""
    return run_install(home, FAKE_SYSTEMCTL_EXIT="1")


@pytest.fixture(scope="module")
def token_helper(home: Home, third: Stage) -> subprocess.CompletedProcess[str]:
    """The person opts in to the CLI token helper for the vault CLI (~/.vault is theirs)."""
    (home.home / ".vault").write_text("# my vault CLI settings\n")
    completed = subprocess.run(
        [str(home.venv / "bin" / "renewer"), "token-helper", "install", "--cli", "vault"],
        env=home.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    leakguard.scan("token-helper install", completed.stdout + completed.stderr)
    return completed


@pytest.fixture(scope="module")
def uninstalled(home: Home, fourth: Stage, token_helper: object) -> Stage:
    return run_install(home, "--uninstall")


@pytest.fixture(scope="module")
def purged(home: Home, uninstalled: Stage) -> Stage:
    return run_install(home, "--uninstall", "--purge")


def exec_start(unit_text: str) -> str:
    (line,) = [line for line in unit_text.splitlines() if line.startswith("ExecStart=")]
    return line.removeprefix("ExecStart=")


def shipped(unit: str, data: Path) -> str:
    return (ROOT / "units" / unit).read_text().replace("%h/.local/share/renewer", str(data))


class TestFirstInstall:
    def test_a_config_with_nothing_to_keep_alive_leaves_the_timer_disabled(
        self, first: Stage, home: Home
    ) -> None:
        """check passes ("tokens: none configured"): reload, but a timer with nothing to do
        is not enabled, and the output says how to enable it later."""
        assert first.code == 0, first.out
        assert first.systemctl == [["--user", "show-environment"], ["--user", "daemon-reload"]]
        assert "ok    config:" in first.out
        assert "warn  tokens: none configured" in first.out
        assert "the config has nothing to keep alive yet, so the timer is not enabled" in first.out
        assert "systemctl --user enable --now renewer.timer" in first.out

    def test_the_venv_is_there_compiled_and_linked(self, first: Stage, home: Home) -> None:
        """~/.local/bin/renewer → the venv's script; bytecode precompiled."""
        link = home.home / ".local" / "bin" / "renewer"
        assert link.is_symlink()
        assert Path(os.readlink(link)) == home.venv / "bin" / "renewer"
        version = subprocess.run(
            [str(link), "--version"], capture_output=True, text=True, check=False
        )
        assert version.stdout.startswith("renewer, version ")
        (site,) = home.venv.glob("lib/python3*/site-packages")
        assert list((site / "renewer" / "__pycache__").glob("cli.*.pyc"))
        assert list((site / "renewer" / "core" / "__pycache__").glob("drift.*.pyc"))

    def test_journald_support_is_installed_or_its_absence_said(
        self, first: Stage, home: Home
    ) -> None:
        """systemd-python is an optional extra: present, or the output says it is off."""
        python = str(home.venv / "bin" / "python")
        probe = subprocess.run([python, "-c", "import systemd.journal"], check=False)
        assert (probe.returncode == 0) != ("journald support off" in first.out)

    def test_units_have_the_install_paths_filled_in(self, first: Stage, home: Home) -> None:
        """Only %h/.local/share/renewer changes; ExecStart points into the venv."""
        assert set(first.units) == set(UNITS)
        for unit, text in first.units.items():
            assert text == shipped(unit, home.data)
            assert "%h/.local/share/renewer" not in text
        assert exec_start(first.units["renewer.service"]) == f"{home.venv}/bin/renewer run"
        assert exec_start(first.units["renewer-notify@.service"]) == (
            f"{home.venv}/bin/renewer notify --unit %i.service"
        )
        assert (home.data / "runbooks" / "token-renewer.md").exists()
        assert (home.data / "docs" / "operations.md").exists()

    def test_the_config_is_the_commented_example_with_vault_addr_0600(
        self, first: Stage, home: Home, vault_peer: VaultPeer
    ) -> None:
        example = (ROOT / "docs" / "config.example.yaml").read_text()
        expected = example.replace(
            "  # addr: https://vault.example.com:8200", f"  addr: {vault_peer.addr}"
        )
        assert first.config.decode() == expected
        assert stat.S_IMODE(home.config.stat().st_mode) == 0o600
        assert stat.S_IMODE(home.config_dir.stat().st_mode) == 0o700

    def test_it_offers_the_banner_and_lingering(self, first: Stage) -> None:
        assert "command -v renewer >/dev/null 2>&1 && renewer status --brief" in first.out
        assert "loginctl enable-linger" in first.out


class TestSecondInstall:
    def test_it_changes_nothing_and_keeps_the_users_config(
        self, first: Stage, second: Stage, home: Home
    ) -> None:
        """Idempotent: same units, the venv not rebuilt, the config byte for byte."""
        assert second.code == 0, second.out
        assert second.units == first.units
        assert "up to date" in second.out
        assert "keeping the existing config" in second.out
        assert second.config == home.config.read_bytes()
        assert second.config != first.config  # the user's edit survived
        cached = ".cache/renewer/"  # a marker per validated config content: it follows the edit
        assert {f for f in second.files if not f.startswith(cached)} == {
            f for f in first.files if not f.startswith(cached)
        }

    def test_a_failing_check_leaves_the_timer_disabled_and_says_why(self, second: Stage) -> None:
        """renewer check fails (no token file yet): reload, but no enable; the check's lines."""
        assert second.systemctl == [["--user", "show-environment"], ["--user", "daemon-reload"]]
        assert "fail  token devvm" in second.out
        assert "renewer check did not pass, so the timer is not enabled" in second.out


class TestThirdInstall:
    def test_a_passing_check_enables_the_timer(self, third: Stage) -> None:
        assert third.code == 0, third.out
        assert third.systemctl == [
            ["--user", "show-environment"],
            ["--user", "daemon-reload"],
            ["--user", "enable", "--now", "renewer.timer"],
        ]
        assert "enabled renewer.timer" in third.out


class TestFourthInstall:
    def test_without_a_user_manager_it_prints_the_exact_next_steps(self, fourth: Stage) -> None:
        assert fourth.code == 0, fourth.out
        assert fourth.systemctl == [["--user", "show-environment"]]
        for step in (
            "renewer check",
            "systemctl --user daemon-reload",
            "systemctl --user enable --now renewer.timer",
            "loginctl enable-linger",
        ):
            assert f"renewer-install:   {step}" in fourth.out


class TestInstalledUnits:
    def test_the_services_exec_start_renews_for_real(self, fourth: Stage, home: Home) -> None:
        """The installed unit's ExecStart, %h expanded, run as the user manager would."""
        assert home.venv.exists(), "runs before the uninstall stage"
        argv = exec_start(fourth.units["renewer.service"]).replace("%h", str(home.home)).split()
        env = {k: v for k, v in home.env().items() if not k.startswith("PIP_")}
        completed = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        leakguard.scan("ExecStart stdout", completed.stdout)
        leakguard.scan("ExecStart stderr", completed.stderr)
        assert completed.returncode == 0, completed.stderr
        renewed = r'"summary": "OK renewed devvm \(token-devvm-[0-9a-f]+, ttl 32d'
        assert re.search(renewed, completed.stderr), completed.stderr

        notify = exec_start(fourth.units["renewer-notify@.service"]).replace("%i", "renewer")
        completed = subprocess.run(
            notify.split(), env=env, capture_output=True, text=True, check=False
        )
        leakguard.scan("notify stdout", completed.stdout)
        assert completed.returncode == 0, completed.stderr

    def test_systemd_analyze_verify_is_clean_on_the_installed_units(
        self, fourth: Stage, home: Home, tmp_path: Path
    ) -> None:
        """With a real venv behind ExecStart, verify has nothing to say."""
        analyze = need_systemd_analyze()
        completed = subprocess.run(
            [analyze, "verify", "--user", *verifiable(tmp_path, home.unit_dir)],
            env={**home.env(), "XDG_RUNTIME_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert (completed.returncode, completed.stdout, completed.stderr) == (0, "", "")

    def test_the_installed_service_stays_hardened(self, fourth: Stage, home: Home) -> None:
        """systemd-analyze security: as shipped (tests/ops/test_units.py has the why)."""
        analyze = need_systemd_analyze()
        for unit, highest in (("renewer.service", 2.0), ("renewer-notify@.service", 6.5)):
            completed = subprocess.run(
                [analyze, "--user", "security", "--offline=yes", str(home.unit_dir / unit)],
                env=home.env(),
                capture_output=True,
                text=True,
                check=False,
            )
            assert completed.returncode == 0, completed.stdout + completed.stderr
            score = re.search(r"Overall exposure level for \S+: (\d+\.\d)", completed.stdout)
            assert score is not None and float(score.group(1)) <= highest, completed.stdout


class TestTokenHelper:
    def test_the_installed_helper_gives_the_cli_the_token_file(
        self, token_helper: subprocess.CompletedProcess[str], home: Home
    ) -> None:
        """The script runs the installed venv (not this checkout) and prints the token."""
        assert token_helper.returncode == 0, token_helper.stderr
        script = home.data / "token-helper"
        assert script.read_text().startswith(f"#!{home.venv / 'bin' / 'python'} -I\n")
        got = subprocess.run(
            [str(script), "get"], env=home.env(), capture_output=True, timeout=60, check=False
        )
        assert (got.returncode, got.stdout) == (0, (home.home / ".vault-token").read_bytes())


class TestUninstall:
    def test_it_leaves_nothing_but_config_and_state(self, uninstalled: Stage, home: Home) -> None:
        assert uninstalled.code == 0, uninstalled.out
        assert uninstalled.systemctl[:3] == [
            ["--user", "show-environment"],
            ["--user", "disable", "--now", "renewer.timer"],
            ["--user", "stop", "renewer-retry@*.timer", "renewer.service"],
        ]
        left = {
            path
            for path in uninstalled.files
            if not path.startswith((".config/renewer/", ".local/state/renewer/"))
        }
        # the user's token file is never ours to remove; ~/.vault is theirs, our line is gone
        assert left == {".vault-token", ".vault"}
        assert (home.home / ".vault").read_text() == "# my vault CLI settings\n"
        assert ".config/renewer/config.yaml" in uninstalled.files
        assert ".local/state/renewer/state.json" in uninstalled.files
        assert "kept" in uninstalled.out

    def test_purge_removes_config_and_state_too(self, purged: Stage) -> None:
        assert purged.code == 0, purged.out
        assert purged.files == {".vault-token", ".vault"}

    def test_purge_leaves_no_directory_it_made(self, purged: Stage) -> None:
        """HOME was empty before the first install: no empty ~/.local/bin, ~/.cache, ..."""
        assert purged.dirs == set()

    def test_a_directory_that_was_there_before_is_kept(self, tmp_path: Path) -> None:
        """Only what install.sh made goes: an empty ~/.local/bin of the user's stays."""
        home = make_home(tmp_path)
        (home.home / ".local" / "bin").mkdir(parents=True)
        assert run_install(home, "--uninstall", "--purge").code == 0
        assert home.dirs() == {".local", ".local/bin"}


class TestRefusals:
    """Each refuses before touching anything (no pip, so these are fast)."""

    @pytest.mark.parametrize(
        ("args", "env", "code", "message"),
        [
            ((), {"PYTHON": "/nonexistent/python3"}, 1, "need '/nonexistent/python3'"),
            ((), {"PYTHON": "/bin/false"}, 1, "renewer needs Python 3.11 or newer"),
            (("--purge",), {}, 2, "--purge only goes with --uninstall"),
            (("--dev", "--uninstall"), {}, 2, "exclude each other"),
            (("--frobnicate",), {}, 2, "unknown option: --frobnicate"),
        ],
        ids=["python-missing", "python-unusable", "purge-alone", "dev-and-uninstall", "unknown"],
    )
    def test_bad_python_or_bad_options(
        self, tmp_path: Path, args: tuple[str, ...], env: dict[str, str], code: int, message: str
    ) -> None:
        home = make_home(tmp_path)
        stage = run_install(home, *args, **env)
        assert stage.code == code
        assert message in stage.out
        assert stage.files == set()

    def test_missing_venv_support_is_named_with_the_package(self, tmp_path: Path) -> None:
        """A Python without ensurepip (Debian without python3-venv)."""
        home = make_home(tmp_path)
        shadow = tmp_path / "no-ensurepip"
        (shadow / "ensurepip").mkdir(parents=True)
        (shadow / "ensurepip" / "__init__.py").write_text(
            "raise ImportError('no ensurepip (stand-in for a missing python3-venv)')\n"
        )
        stage = run_install(home, PYTHONPATH=str(shadow))
        assert stage.code == 1
        assert "venv support is missing" in stage.out
        assert "apt-get install python3-venv" in stage.out
        assert stage.files == set()


def test_install_sh_is_posix_sh() -> None:
    """Syntax-checked by dash (Debian's /bin/sh) when present, else by sh."""
    shell = shutil.which("dash") or "sh"
    assert subprocess.run([shell, "-n", str(INSTALL)], check=False).returncode == 0
    text = INSTALL.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert "set -eu\n" in text
    assert text.rstrip().endswith('main "$@"')


def need_systemd_analyze() -> str:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    return analyze
