"""renewer.core.childenv: what a child process inherits (issue 20, item 7)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.childenv import child_environment, names_a_credential


class TestNames:
    @pytest.mark.parametrize(
        "name",
        [
            "VAULT_TOKEN",
            "BAO_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "GITHUB_TOKEN",
            "OPENAI_API_KEY",
            "STRIPE_APIKEY",
            "PGPASSWORD",
            "MYSQL_PWD_PASSWD",
            "GPG_PASSPHRASE",
            "DOCKER_CREDENTIALS",
            "SESSION_COOKIE",
            "vault_token",
        ],
    )
    def test_names_that_hold_credentials_are_dropped(self, name: str) -> None:
        assert names_a_credential(name)

    @pytest.mark.parametrize(
        "name",
        [
            "PATH",
            "HOME",
            "XDG_RUNTIME_DIR",
            "DBUS_SESSION_BUS_ADDRESS",
            "DISPLAY",
            "SSH_AUTH_SOCK",
            "AWS_PROFILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "VAULT_ADDR",
            "VAULT_CACERT",
            "GOOGLE_APPLICATION_CREDENTIALS_PATH",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "KEYBOARD_LAYOUT",
        ],
    )
    def test_names_of_places_and_settings_are_kept(self, name: str) -> None:
        assert not names_a_credential(name)


class TestChildEnvironment:
    def test_values_renewer_knows_are_secret_are_dropped_whatever_the_name(self) -> None:
        env = child_environment(
            {"EDITOR": "vim", "NOTES": "hvs.secret-token"},
            holds_secret=lambda value: value.startswith("hvs."),
        )
        assert env == {"EDITOR": "vim"}

    def test_extra_is_added_last_and_not_filtered(self) -> None:
        env = child_environment(
            {"VAULT_TOKEN": "t", "PATH": "/bin"}, extra={"RENEWER_SINK_0": "/x"}
        )
        assert env == {"PATH": "/bin", "RENEWER_SINK_0": "/x"}


names = st.text(alphabet="ABCDEFGHIJKLMNOPRSTUVWXYZ_", min_size=1, max_size=24)


@given(base=st.dictionaries(names, st.text(max_size=8), max_size=12))
def test_the_child_gets_every_variable_but_credentials_unchanged(base: dict[str, str]) -> None:
    env = child_environment(base, holds_secret=lambda value: "!" in value)

    assert not any(names_a_credential(name) or "!" in value for name, value in env.items())
    assert {name: base[name] for name in env} == env
    dropped = set(base) - set(env)
    assert all(names_a_credential(name) or "!" in base[name] for name in dropped)
