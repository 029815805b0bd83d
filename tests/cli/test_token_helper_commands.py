"""``renewer token-helper``: install/uninstall, the helper script's get, and store's fallbacks.

No Vault here (tests/integration/test_token_helper.py has the real bao CLI
and server): install edits files, get reads one, and every fallback of store
below is reached before a Vault answers, or because none can. The helper
script runs as the CLI runs it: a child process in its own session (no
controlling terminal), the token on stdin.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from renewer.lock import run_lock
from renewer.tokens.helper_install import Baked, read_baked, script_text
from tests import leakguard
from tests.cli.helpers import Ran, invoke

CONFIG = """\
version: 1
vault:
  addr: {addr}
state_dir: {home}/.local/state/renewer
run:
  lock_timeout: 1s
  deadline: 5s
tokens:
  - name: devvm
    path: {sink}
    expect: {{display_name: token-devvm-wizard, policies: [admin]}}
    mint: {{display_name: devvm-wizard, policies: [admin], period: 768h}}
"""
TOKEN = "hvs.CAESIJtestTOKENvalue0123456789abcdef"


class Home:
    """A throwaway home with a renewer config; runs renewer and the helper script in it."""

    def __init__(self, root: Path, *, addr: str = "http://127.0.0.1:9") -> None:
        self.root = root
        self.sink = root / ".vault-token"
        self.config = root / "config.yaml"
        self.write_config(addr=addr)
        self.env = {"HOME": str(root), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}

    def write_config(self, *, addr: str = "http://127.0.0.1:9", sink: Path | None = None) -> None:
        self.config.write_text(CONFIG.format(addr=addr, home=self.root, sink=sink or self.sink))

    @property
    def script(self) -> Path:
        return self.root / ".local" / "share" / "renewer" / "token-helper"

    @property
    def kept_login(self) -> Path:
        return self.root / ".local" / "share" / "renewer" / "kept" / "devvm.login"

    def renewer(self, *args: str, **env: str) -> Ran:
        return invoke(["--config", str(self.config), *args], env={**self.env, **env})

    def helper(
        self, operation: str, stdin: str = "", **env: str
    ) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [str(self.script), operation],
            input=stdin,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,  # like a CLI started from a script: no /dev/tty
            check=False,
        )
        leakguard.scan("helper stderr", completed.stderr)
        return completed


@pytest.fixture
def home(tmp_path: Path) -> Home:
    leakguard.remember(TOKEN)
    return Home(tmp_path)


class TestInstall:
    def test_install_writes_the_script_and_both_config_lines_keeping_other_lines(
        self, home: Home
    ) -> None:
        (home.root / ".vault").write_text("# my vault CLI config\n")

        ran = home.renewer("token-helper", "install", "--cli", "vault", "--cli", "bao")

        assert ran.code == 0, ran.stderr
        line = f'token_helper = "{home.script}"'
        assert (home.root / ".vault").read_text().splitlines()[0] == "# my vault CLI config"
        assert line in (home.root / ".vault").read_text().splitlines()
        assert line in (home.root / ".bao").read_text().splitlines()
        assert stat.S_IMODE(home.script.stat().st_mode) == 0o700
        assert read_baked(home.script) == Baked("devvm", str(home.sink), str(home.config))
        assert "audit log" in ran.stdout

    def test_installing_twice_changes_nothing(self, home: Home) -> None:
        home.renewer("token-helper", "install", "--cli", "bao")
        first = (home.root / ".bao").read_text()
        assert home.renewer("token-helper", "install", "--cli", "bao").code == 0
        assert (home.root / ".bao").read_text() == first

    def test_another_helper_is_never_replaced(self, home: Home) -> None:
        (home.root / ".vault").write_text('token_helper = "/usr/local/bin/keyring-helper"\n')

        ran = home.renewer("token-helper", "install", "--cli", "vault")

        assert ran.code == 1
        assert "keyring-helper" in ran.stderr
        assert "see: runbooks/token-renewer.md#token-helper" in ran.stderr
        assert (home.root / ".vault").read_text() == (
            'token_helper = "/usr/local/bin/keyring-helper"\n'
        )
        assert not home.script.exists()

    def test_a_file_renewer_cannot_read_as_hcl_is_refused_with_its_line(self, home: Home) -> None:
        (home.root / ".vault").write_text("# ansible\n$ANSIBLE_VAULT;1.1;AES256\n")
        ran = home.renewer("token-helper", "install", "--cli", "vault")
        assert ran.code == 1
        assert f"{home.root / '.vault'}:2:" in ran.stderr

    def test_a_symlinked_config_is_edited_at_its_target(self, home: Home) -> None:
        """Dotfile managers link ~/.bao into a repository: the link stays a link."""
        target = home.root / "dotfiles" / "bao.hcl"
        target.parent.mkdir()
        target.write_text("# from my dotfiles\n")
        (home.root / ".bao").symlink_to(target)

        assert home.renewer("token-helper", "install", "--cli", "bao").code == 0

        assert (home.root / ".bao").is_symlink()
        assert f'token_helper = "{home.script}"' in target.read_text()

    def test_the_cli_s_config_path_variables_are_honoured(self, home: Home) -> None:
        """bao reads BAO_CONFIG_PATH, else VAULT_CONFIG_PATH (OpenBao's ReadBaoVariable)."""
        shared = home.root / "cli.hcl"
        ran = home.renewer("token-helper", "install", "--cli", "bao", VAULT_CONFIG_PATH=str(shared))
        assert ran.code == 0, ran.stderr
        assert f'token_helper = "{home.script}"' in shared.read_text()
        assert not (home.root / ".bao").exists()

    def test_no_cli_on_path_and_none_named_is_a_clear_error(self, home: Home) -> None:
        ran = home.renewer("token-helper", "install", PATH=str(home.root / "empty"))
        assert ran.code == 1
        assert "--cli vault" in ran.stderr

    def test_a_data_dir_with_a_space_is_refused(self, home: Home) -> None:
        ran = home.renewer(
            "token-helper", "install", "--cli", "bao", XDG_DATA_HOME=str(home.root / "my data")
        )
        assert ran.code == 1
        assert "cannot run" in ran.stderr

    def test_with_two_sinks_and_none_at_the_cli_file_the_sink_must_be_named(
        self, home: Home
    ) -> None:
        home.config.write_text(
            home.config.read_text().replace(str(home.sink), str(home.root / "a-token"))
            + "  - name: other\n    path: "
            + str(home.root / "b-token")
            + "\n    expect: {display_name: token-x, policies: [admin]}\n"
            "    mint: {display_name: x, policies: [admin], period: 768h}\n"
        )
        ran = home.renewer("token-helper", "install", "--cli", "bao")
        assert ran.code == 1
        assert "--sink NAME" in ran.stderr
        assert home.renewer("token-helper", "install", "--cli", "bao", "--sink", "other").code == 0
        assert read_baked(home.script) == Baked(
            "other", str(home.root / "b-token"), str(home.config)
        )


class TestUninstall:
    def test_uninstall_removes_only_renewer_s_lines_then_the_script(self, home: Home) -> None:
        (home.root / ".vault").write_text("# mine\n")
        home.renewer("token-helper", "install", "--cli", "vault", "--cli", "bao")

        ran = home.renewer("token-helper", "uninstall")

        assert ran.code == 0, ran.stderr
        assert (home.root / ".vault").read_text() == "# mine\n"
        assert not (home.root / ".bao").exists()  # renewer created it; nothing else was in it
        assert not home.script.exists()

    def test_uninstall_leaves_another_helper_alone(self, home: Home) -> None:
        (home.root / ".vault").write_text('token_helper = "/usr/local/bin/keyring-helper"\n')
        ran = home.renewer("token-helper", "uninstall", "--cli", "vault")
        assert ran.code == 0
        assert "left as it is" in ran.stdout
        assert "keyring-helper" in (home.root / ".vault").read_text()

    def test_the_script_stays_while_one_cli_still_names_it(self, home: Home) -> None:
        home.renewer("token-helper", "install", "--cli", "vault", "--cli", "bao")
        assert home.renewer("token-helper", "uninstall", "--cli", "bao").code == 0
        assert home.script.exists()


class TestGet:
    @pytest.fixture
    def installed(self, home: Home) -> Home:
        assert home.renewer("token-helper", "install", "--cli", "bao").code == 0
        return home

    def test_no_file_means_no_token_and_success(self, installed: Home) -> None:
        """As the CLIs' own helper: a missing file is 'not logged in', not an error."""
        got = installed.helper("get")
        assert (got.returncode, got.stdout, got.stderr) == (0, "", "")

    def test_the_token_is_printed_exactly_without_a_newline(self, installed: Home) -> None:
        """The CLI uses stdout verbatim as the X-Vault-Token header."""
        installed.sink.write_text(f"\ufeff{TOKEN}\n")
        installed.sink.chmod(0o600)
        got = installed.helper("get")
        assert (got.returncode, got.stdout) == (0, TOKEN)

    def test_the_full_cli_get_prints_the_same(self, installed: Home) -> None:
        """`renewer token-helper get` (by hand): same answer; its stdout is the secret itself."""
        installed.sink.write_text(f"{TOKEN}\n")
        got = subprocess.run(
            [
                *(sys.executable, "-m", "renewer", "--config", str(installed.config)),
                "token-helper",
                "get",
            ],
            env=installed.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        leakguard.scan("token-helper get stderr", got.stderr)
        assert (got.returncode, got.stdout) == (0, TOKEN)

    @pytest.mark.parametrize("case", ["symlink", "two-lines", "directory"])
    def test_anything_but_one_token_in_a_regular_file_fails_loudly(
        self, installed: Home, case: str
    ) -> None:
        if case == "symlink":
            (installed.root / "elsewhere").write_text(TOKEN)
            installed.sink.symlink_to(installed.root / "elsewhere")
        elif case == "two-lines":
            installed.sink.write_text(f"{TOKEN}\n{TOKEN}\n")
        else:
            installed.sink.mkdir()
        got = installed.helper("get")
        assert got.returncode == 1
        assert got.stdout == ""
        assert str(installed.sink) in got.stderr

    def test_get_imports_nothing_beyond_the_interpreter_s_own_start(self, installed: Home) -> None:
        """No click, hvac, requests, structlog or yaml on the CLI's hot path: only our module."""

        def imported(*argv: str) -> set[str]:
            completed = subprocess.run(
                [sys.executable, "-I", "-X", "importtime", *argv],
                env=installed.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            return {
                line.rsplit("|", 1)[1].strip()
                for line in completed.stderr.splitlines()
                if line.startswith("import time:") and "|" in line
            }

        extra = imported(str(installed.script), "get") - imported("-c", "pass")
        assert extra <= {"__future__", "renewer", "renewer.tokens", "renewer.tokens.helper_entry"}
        assert "renewer.tokens.helper_entry" in extra

    def test_an_interpreter_path_a_shebang_cannot_hold_still_works(self, tmp_path: Path) -> None:
        """A venv under a path with a space: sh re-executes Python (pip's trick)."""
        odd = tmp_path / "my venv"
        odd.mkdir()
        python = odd / "python"
        python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
        python.chmod(0o755)
        sink = tmp_path / "token"
        sink.write_text(TOKEN)
        script = tmp_path / "helper"
        script.write_text(script_text(str(python), Baked("devvm", str(sink), "")))
        script.chmod(0o700)
        assert script.read_text().startswith("#!/bin/sh\n")
        got = subprocess.run(
            [str(script), "get"], capture_output=True, text=True, timeout=60, check=False
        )
        assert (got.returncode, got.stdout) == (0, TOKEN)


class TestStoreNeverFailsALogin:
    @pytest.fixture
    def installed(self, home: Home) -> Home:
        assert home.renewer("token-helper", "install", "--cli", "bao").code == 0
        return home

    def test_an_unusable_config_stores_the_token_where_the_script_says(
        self, installed: Home
    ) -> None:
        installed.config.write_text("version: [\n")
        stored = installed.helper("store", TOKEN)
        assert stored.returncode == 0, stored.stderr
        assert installed.sink.read_text() == TOKEN
        assert "cannot use its config" in stored.stderr

    def test_an_unreachable_vault_stores_it_as_given_and_keeps_a_copy(
        self, installed: Home
    ) -> None:
        stored = installed.helper("store", TOKEN, VAULT_ADDR="http://127.0.0.1:9")
        assert stored.returncode == 0, stored.stderr
        assert "Vault could not check it" in stored.stderr
        assert installed.sink.read_text() == TOKEN
        assert installed.kept_login.read_text() == TOKEN
        assert stat.S_IMODE(installed.kept_login.stat().st_mode) == 0o600

    def test_a_busy_lock_stores_it_as_given_after_the_bound(self, installed: Home) -> None:
        with run_lock(installed.root / ".local" / "state" / "renewer", timeout=1):
            stored = installed.helper("store", TOKEN)
        assert stored.returncode == 0, stored.stderr
        assert "a renewer run holds the lock (waited 1s)" in stored.stderr
        assert installed.sink.read_text() == TOKEN
        assert installed.kept_login.read_text() == TOKEN

    def test_a_login_for_another_server_is_stored_without_asking_ours(
        self, installed: Home
    ) -> None:
        stored = installed.helper("store", TOKEN, BAO_ADDR="https://vault.elsewhere.example")
        assert stored.returncode == 0
        assert "this login is for https://vault.elsewhere.example" in stored.stderr
        assert installed.sink.read_text() == TOKEN
        assert not installed.kept_login.exists()

    def test_something_that_is_not_a_token_is_stored_as_given(self, installed: Home) -> None:
        stored = installed.helper("store", "")
        assert stored.returncode == 0
        assert "it is empty" in stored.stderr

    def test_a_moved_sink_is_used_and_the_stale_script_is_named(self, installed: Home) -> None:
        moved = installed.root / "moved-token"
        installed.write_config(sink=moved)
        stored = installed.helper("store", TOKEN, VAULT_ADDR="https://vault.elsewhere.example")
        assert moved.read_text() == TOKEN
        assert "run `renewer token-helper install` again" in stored.stderr

    def test_only_a_file_that_cannot_be_written_fails_the_store(self, installed: Home) -> None:
        """Then the CLI says the token was not persisted and prints it, as for its own helper."""
        blocker = installed.root / "not-a-dir"
        blocker.write_text("")
        installed.write_config(sink=blocker / "token")
        stored = installed.helper("store", TOKEN, BAO_ADDR="https://vault.elsewhere.example")
        assert stored.returncode == 1
        assert "cannot store the login token" in stored.stderr


class TestKeptTokens:
    def test_login_token_without_a_kept_one_says_so(self, home: Home) -> None:
        ran = home.renewer("token-helper", "login-token")
        assert ran.code == 1
        assert "no login token was kept for devvm" in ran.stderr
        assert ran.stdout == ""

    def test_erase_of_a_missing_file_is_a_no_op(self, home: Home) -> None:
        ran = home.renewer("token-helper", "erase")
        assert ran.code == 0
        assert "nothing to erase" in ran.stderr

    def test_restore_never_overwrites_a_token_that_came_since(self, home: Home) -> None:
        home.sink.write_text(TOKEN)
        home.sink.chmod(0o600)
        assert home.renewer("token-helper", "erase").code == 0
        assert not home.sink.exists()
        home.sink.write_text("s.a-login-since-the-erase")

        ran = home.renewer("token-helper", "restore")

        assert ran.code == 1
        assert "holds a token again" in ran.stderr
        assert home.sink.read_text() == "s.a-login-since-the-erase"


class TestCheck:
    """`renewer check` says whether what the CLIs run still fits the config."""

    @pytest.fixture
    def installed(self, home: Home) -> Home:
        assert home.renewer("token-helper", "install", "--cli", "bao").code == 0
        return home

    def test_nothing_is_said_before_the_opt_in(self, home: Home) -> None:
        assert "token helper" not in home.renewer("check").stdout

    def test_an_installed_helper_is_reported_with_its_cli(self, installed: Home) -> None:
        line = next(
            text
            for text in installed.renewer("check").stdout.splitlines()
            if "token helper" in text
        )
        assert line.startswith("ok")
        assert f"bao ({installed.root / '.bao'})" in line

    def test_a_moved_sink_asks_for_a_new_install(self, installed: Home) -> None:
        installed.write_config(sink=installed.root / "moved")
        assert "run `renewer token-helper install` again" in installed.renewer("check").stdout

    def test_a_missing_script_that_a_cli_still_names_fails(self, installed: Home) -> None:
        installed.script.unlink()
        ran = installed.renewer("check")
        assert ran.code != 0
        assert "it is missing: every such CLI command fails" in ran.stdout


def test_the_person_s_line_is_one_printable_line() -> None:
    """Vault's words (display names, denials) reach a terminal: no escapes, no second line."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from renewer.tokens.helper import announce; "
            "announce('DRIFT devvm: the login \\x1b[2J\\x1b[31mroot\\nnext')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        check=True,
    )
    assert completed.stderr == "renewer: DRIFT devvm: the login ?[2J?[31mroot?next\n"
