"""Tests for renewer.core.cliconfig and renewer.core.helper: the token helper's pure decisions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.cliconfig import (
    MARKER,
    HelperSetting,
    UnrecognizedConfig,
    helper_path_problem,
    read_helper,
    with_helper,
    without_helper,
)
from renewer.core.drift import Verdict
from renewer.core.helper import StoreAction, plan_store, same_vault

HELPER = "/home/u/.local/share/renewer/token-helper"
OK = Verdict()
DRIFT = Verdict(("display name is 'userpass-alice', expected 'token-devvm-wizard'",))


class TestReadHelper:
    def test_an_empty_file_names_no_helper(self) -> None:
        assert read_helper("") == HelperSetting()

    def test_the_setting_and_its_line_are_found_among_comments(self) -> None:
        text = '# my vault config\n\n// another comment\ntoken_helper = "/opt/h"  # keyring\n'
        assert read_helper(text) == HelperSetting("/opt/h", 4)

    @pytest.mark.parametrize(
        ("text", "line"),
        [
            ('{"token_helper": "/opt/h"}\n', 1),
            ("# ok\nvault_password_file_content\n", 2),
            ('/* block */\ntoken_helper = "/opt/h"\n', 1),
            ('token_helper = "/a"\ntoken_helper = "/b"\n', 2),
        ],
        ids=["json", "ansible-vault-password", "block-comment", "set-twice"],
    )
    def test_anything_else_is_refused_with_its_line(self, text: str, line: int) -> None:
        """renewer edits only what it understands (the CLIs reject other keys anyway)."""
        with pytest.raises(UnrecognizedConfig) as refused:
            read_helper(text)
        assert refused.value.line == line


class TestEdits:
    def test_install_appends_the_marker_and_the_line(self) -> None:
        text = "# mine\n"
        assert with_helper(text, HELPER) == f'# mine\n{MARKER}\ntoken_helper = "{HELPER}"\n'

    def test_install_into_a_file_without_a_final_newline_keeps_its_last_line(self) -> None:
        assert with_helper("# mine", HELPER).splitlines()[0] == "# mine"

    def test_install_replaces_an_existing_setting_in_place(self) -> None:
        text = '# a\ntoken_helper = "/old/renewer-helper"\n# b\n'
        assert with_helper(text, HELPER) == f'# a\ntoken_helper = "{HELPER}"\n# b\n'

    def test_uninstall_removes_the_line_and_renewer_s_marker_only(self) -> None:
        text = f'# a\n{MARKER}\ntoken_helper = "{HELPER}"\n# b\n'
        assert without_helper(text) == "# a\n# b\n"

    def test_uninstall_keeps_a_comment_that_is_not_the_marker(self) -> None:
        text = f'# the keyring helper\ntoken_helper = "{HELPER}"\n'
        assert without_helper(text) == "# the keyring helper\n"

    def test_uninstall_of_a_file_without_a_helper_changes_nothing(self) -> None:
        assert without_helper("# a\n\n") == "# a\n\n"


class TestHelperPath:
    @pytest.mark.parametrize(
        "path", ["/home/u/.local/share/renewer/token-helper", "/opt/x_y/a-b.c/h@1"]
    )
    def test_plain_absolute_paths_are_fine(self, path: str) -> None:
        assert helper_path_problem(path) == ""

    @pytest.mark.parametrize(
        "path", ["relative/helper", "/home/my user/h", "/tmp/$(id)/h", "/a/b'c", '/a/"b"']
    )
    def test_paths_the_cli_s_shell_would_split_are_refused(self, path: str) -> None:
        """The CLI runs `$SHELL -c "<path> get"` after stat-ing the raw path: no quoting works."""
        assert helper_path_problem(path) != ""


comment_lines = st.one_of(
    st.just(""),
    st.text(alphabet="abc #/=\"'{}", max_size=12).map(lambda body: "# " + body),
    st.text(alphabet="abc xyz", max_size=12).map(lambda body: "// " + body),
)
files = st.lists(comment_lines, max_size=8).map(lambda lines: "".join(f"{x}\n" for x in lines))


@given(text=files)
def test_install_then_uninstall_gives_back_every_line(text: str) -> None:
    """Every line the person wrote survives install and uninstall, byte for byte."""
    assert without_helper(with_helper(text, HELPER)) == text


@given(text=files, path=st.sampled_from([HELPER, "/opt/other"]))
def test_install_keeps_every_other_line_and_sets_exactly_one_helper(text: str, path: str) -> None:
    installed = with_helper(text, path)
    assert read_helper(installed).path == path
    kept = [
        line for line in installed.splitlines() if line not in {MARKER, f'token_helper = "{path}"'}
    ]
    assert kept == text.splitlines()


class TestPlanStore:
    @pytest.mark.parametrize(
        ("login", "current", "action"),
        [
            (OK, None, StoreAction.STORE_OURS),
            (OK, OK, StoreAction.STORE_OURS),
            (OK, DRIFT, StoreAction.STORE_OURS),
            (DRIFT, OK, StoreAction.KEEP_CURRENT),
            (DRIFT, DRIFT, StoreAction.HEAL),
            (DRIFT, None, StoreAction.HEAL),
        ],
        ids=["ours-empty", "ours-over-ours", "ours-over-foreign", "login-keeps", "heal", "first"],
    )
    def test_the_table(self, login: Verdict, current: Verdict | None, action: StoreAction) -> None:
        assert plan_store(login, current) is action


verdicts = st.sampled_from([OK, DRIFT])


@given(login=verdicts, current=st.one_of(st.none(), verdicts))
def test_a_foreign_token_never_replaces_a_healthy_one_of_ours(
    login: Verdict, current: Verdict | None
) -> None:
    """Safety: our healthy periodic token is kept unless the login hands over one of ours."""
    action = plan_store(login, current)
    if current is not None and current.ok and not login.ok:
        assert action is StoreAction.KEEP_CURRENT
    if action is StoreAction.KEEP_CURRENT:
        assert current is not None and current.ok


class TestSameVault:
    @pytest.mark.parametrize(
        ("cli", "ours"),
        [
            ("http://127.0.0.1:8200", "http://127.0.0.1:8200/"),
            ("HTTPS://Vault.Example.com", "https://vault.example.com:443"),
            ("http://127.0.0.1:8200/v1", "http://127.0.0.1:8200"),
        ],
    )
    def test_the_same_server_spelled_differently(self, cli: str, ours: str) -> None:
        assert same_vault(cli, ours)

    @pytest.mark.parametrize(
        ("cli", "ours"),
        [
            ("http://localhost:8200", "http://127.0.0.1:8200"),
            ("http://127.0.0.1:8200", "https://127.0.0.1:8200"),
            ("http://127.0.0.1:8201", "http://127.0.0.1:8200"),
            ("dev-server", "dev-server"),
            ("http://127.0.0.1:8200", ""),
            ("http://127.0.0.1:99999", "http://127.0.0.1:99999"),
        ],
        ids=["no-name-resolution", "scheme", "port", "bao-dev-server", "unset", "bad-port"],
    )
    def test_anything_else_is_another_server(self, cli: str, ours: str) -> None:
        assert not same_vault(cli, ours)


@given(cli=st.text(max_size=30), ours=st.text(max_size=30))
def test_same_vault_is_symmetric_and_never_raises(cli: str, ours: str) -> None:
    assert same_vault(cli, ours) == same_vault(ours, cli)
