"""The credentials/secrets/recipes config keys: defaults, and every refusal with file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from renewer.config import load_config
from renewer.credentials.spec import TestPolicy
from renewer.errors import ConfigError

TOKEN = {
    "name": "devvm",
    "path": "~/.vault-token",
    "expect": {"display_name": "token-devvm", "policies": ["default"]},
    "mint": {"display_name": "devvm", "policies": ["default"], "period": "768h"},
}


def load(tmp_path: Path, document: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"version": 1, **document}, sort_keys=False))
    return load_config(path, environ={"HOME": str(tmp_path), **(env or {})})


def refused(tmp_path: Path, document: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, document)
    assert caught.value.exit_code == 78
    return str(caught.value)


def line_of(tmp_path: Path, text: str) -> int:
    lines = (tmp_path / "config.yaml").read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


class TestDefaults:
    def test_minimal_credential_gets_the_documented_defaults(self, tmp_path: Path) -> None:
        """Store local, 2/3 refresh, test after-refresh, XDG paths for store and recipes."""
        config = load(
            tmp_path,
            {"credentials": [{"name": "notion-prod", "recipe": "notion", "secret": "notion/prod"}]},
        )
        section = config.credentials
        [spec] = section.credentials

        assert (spec.store, spec.test, spec.sinks, spec.hooks) == (
            "local",
            TestPolicy.AFTER_REFRESH,
            (),
            (),
        )
        assert spec.refresh_at == pytest.approx(2 / 3)
        assert str(spec.secret) == "notion/prod"
        assert section.secrets.local.dir == tmp_path / ".local/share/renewer/store"
        assert section.secrets.local.key_file == tmp_path / ".config/renewer/store.key"
        assert section.recipes.dirs == (tmp_path / ".config/renewer/recipes",)

    def test_xdg_variables_move_the_defaults(self, tmp_path: Path) -> None:
        """XDG_DATA_HOME and XDG_CONFIG_HOME are honoured."""
        config = load(tmp_path, {}, env={"XDG_DATA_HOME": "/data", "XDG_CONFIG_HOME": "/conf"})

        assert config.credentials.secrets.local.dir == Path("/data/renewer/store")
        assert config.credentials.recipes.dirs == (Path("/conf/renewer/recipes"),)

    def test_full_entry_is_parsed(self, tmp_path: Path) -> None:
        """Sinks, hooks with durations, store choice and paths relative to home."""
        config = load(
            tmp_path,
            {
                "tokens": [TOKEN],
                "secrets": {"default_store": "vault", "vault": {"mount": "kv", "prefix": "me"}},
                "recipes": {"dirs": ["~/r"], "allow_domains": ["Auth.Example.com"]},
                "credentials": [
                    {
                        "name": "n",
                        "recipe": "notion",
                        "secret": "notion/prod",
                        "refresh_at": 0.5,
                        "test": "always",
                        "sinks": [
                            {"type": "file", "path": "~/t"},
                            {
                                "type": "env",
                                "path": "~/e.env",
                                "vars": {"NOTION_TOKEN": "{{secret.token}}"},
                            },
                        ],
                        "hooks": [
                            {"command": ["true"], "timeout": "2m"},
                            {"command": "echo hi", "shell": True},
                        ],
                    }
                ],
            },
        )
        [spec] = config.credentials.credentials

        assert spec.store == "vault"
        assert spec.sinks[0].path == tmp_path / "t"
        assert spec.sinks[1].vars == {"NOTION_TOKEN": "{{secret.token}}"}
        assert (spec.hooks[0].command, spec.hooks[0].timeout) == (("true",), 120)
        assert (spec.hooks[1].command, spec.hooks[1].shell) == ("echo hi", True)
        assert config.credentials.recipes.allow_domains == ("auth.example.com",)
        assert config.credentials.secrets.vault.mount == "kv"


class TestRefusals:
    @pytest.mark.parametrize(
        ("entry", "needle", "message"),
        [
            (
                {"secret": "notion"},
                "secret: notion",
                "credentials[0].secret: expected service/instance, got 'notion'",
            ),
            ({"secret": "../x"}, "secret:", "credentials[0].secret: expected service/instance"),
            ({"refresh_at": 1.5}, "refresh_at", "credentials[0].refresh_at"),
            (
                {"test": "sometimes"},
                "test:",
                "credentials[0].test: must be one of 'after-refresh', 'always', 'never'",
            ),
            ({"store": "s3"}, "store:", "credentials[0].store: must be one of 'local', 'vault'"),
            (
                {"sinks": [{"type": "env", "path": "x", "value": "v"}]},
                "- type: env",
                "credentials[0].sinks[0]: an env sink takes vars (NAME: template), not value",
            ),
            (
                {"sinks": [{"type": "file", "path": "x", "vars": {"A": "b"}}]},
                "- type: file",
                "credentials[0].sinks[0]: a file sink takes value (a template), not vars",
            ),
            (
                {"sinks": [{"type": "env", "path": "x", "vars": {"1BAD": "b"}}]},
                "vars:",
                "expected an environment variable name",
            ),
            (
                {"sinks": [{"type": "file", "path": "x", "value": "{{ env.HOME }}"}]},
                "value:",
                "credentials[0].sinks[0].value: column 1: unknown namespace 'env'",
            ),
            (
                {"hooks": [{"command": "systemctl restart x"}]},
                "command:",
                "credentials[0].hooks[0].command: a command string needs shell: true",
            ),
            (
                {"hooks": [{"command": ["x"], "shell": True}]},
                "shell:",
                "credentials[0].hooks[0].shell: shell: true takes a command string, not a list",
            ),
            (
                {"hooks": [{"command": ["x"], "timeout": "soon"}]},
                "timeout:",
                "credentials[0].hooks[0].timeout: expected a duration like 30s, 5m or 90 "
                "(seconds), got 'soon'",
            ),
            (
                {"hooks": [{"command": ["x"], "timeout": "0s"}]},
                "timeout:",
                "credentials[0].hooks[0].timeout: a hook needs at least 1s",
            ),
            (
                {"recipe": "notoin"},
                "recipe:",
                "credentials[0].recipe: no recipe named 'notoin' (known: aws_assume_role, aws_s3, "
                "aws_sts, github,",
            ),
            (
                {"recipe": "_google_base"},
                "recipe:",
                "credentials[0].recipe: recipe '_google_base' is abstract and cannot be used",
            ),
            ({"colour": "blue"}, "colour", "credentials[0].colour: unknown key 'colour'"),
        ],
        ids=[
            "ref-no-slash",
            "ref-dots",
            "refresh-at",
            "test-policy",
            "store",
            "env-value",
            "file-vars",
            "var-name",
            "sink-template",
            "hook-string",
            "shell-list",
            "hook-timeout",
            "hook-zero",
            "unknown-recipe",
            "abstract-recipe",
            "unknown-key",
        ],
    )
    def test_bad_entry_is_refused_at_its_line(
        self, tmp_path: Path, entry: dict[str, Any], needle: str, message: str
    ) -> None:
        """Each mistake is named with the config file, the line and the field."""
        base = {"name": "n", "recipe": "notion", "secret": "notion/prod"}

        text = refused(tmp_path, {"credentials": [{**base, **entry}]})

        assert message in text
        assert f"config.yaml:{line_of(tmp_path, needle)}: " in text

    def test_duplicate_names_are_refused(self, tmp_path: Path) -> None:
        """The second entry with a name is pointed at."""
        entry = {"name": "n", "recipe": "notion", "secret": "notion/prod"}

        text = refused(tmp_path, {"credentials": [entry, {**entry, "secret": "notion/b"}]})

        assert "credentials[1].name: duplicate credential name 'n'" in text

    def test_two_sinks_on_one_path_are_refused(self, tmp_path: Path) -> None:
        """Two credentials writing one file would fight over it."""
        sink = [{"type": "file", "path": "~/token"}]
        text = refused(
            tmp_path,
            {
                "credentials": [
                    {"name": "a", "recipe": "notion", "secret": "notion/a", "sinks": sink},
                    {"name": "b", "recipe": "notion", "secret": "notion/b", "sinks": sink},
                ]
            },
        )

        assert (
            f"credentials[1].sinks[0].path: {tmp_path}/token is already a sink of credential 'a'"
            in text
        )

    def test_sink_on_a_token_file_is_refused(self, tmp_path: Path) -> None:
        """A credential must never overwrite a Vault token sink."""
        text = refused(
            tmp_path,
            {
                "tokens": [TOKEN],
                "credentials": [
                    {
                        "name": "a",
                        "recipe": "notion",
                        "secret": "notion/a",
                        "sinks": [{"type": "file", "path": "~/.vault-token"}],
                    }
                ],
            },
        )

        assert "is token sink 'devvm''s file" in text

    def test_vault_store_without_a_token_is_refused(self, tmp_path: Path) -> None:
        """The KV store needs to know which renewed token to use."""
        text = refused(
            tmp_path,
            {
                "credentials": [
                    {"name": "a", "recipe": "notion", "secret": "notion/a", "store": "vault"}
                ]
            },
        )

        assert "credentials[0].store: the vault store needs secrets.vault.token" in text

    def test_vault_token_naming_no_sink_is_refused(self, tmp_path: Path) -> None:
        """secrets.vault.token must be one of tokens[].name."""
        text = refused(
            tmp_path,
            {
                "tokens": [TOKEN],
                "secrets": {"vault": {"token": "other"}},
                "credentials": [
                    {"name": "a", "recipe": "notion", "secret": "notion/a", "store": "vault"}
                ],
            },
        )

        assert "secrets.vault.token: no token sink named 'other' (known: devvm)" in text

    def test_bad_allowlist_entry_is_refused(self, tmp_path: Path) -> None:
        """An allowlist entry is a host name, not a URL."""
        text = refused(tmp_path, {"recipes": {"allow_domains": ["https://x.example"]}})

        assert "recipes.allow_domains[0]: expected a host name like auth.example.com" in text

    @pytest.mark.parametrize("suffix", ["workers.dev", "github.io", "co.uk", "com"])
    def test_a_public_suffix_cannot_be_allowlisted(self, tmp_path: Path, suffix: str) -> None:
        """Allowing workers.dev would allow every tenant below it; the exact host is asked for."""
        with pytest.raises(ConfigError) as caught:
            load(tmp_path, {"recipes": {"allow_domains": ["login.example.org", suffix]}})

        assert f"recipes.allow_domains[1]: {suffix} is a public suffix" in caught.value.message
        assert caught.value.hint == f"list the exact host instead, e.g. myapp.{suffix}"


class TestCertificateAndProfileKeys:
    def test_pki_settings_are_parsed_with_defaults(self, tmp_path: Path) -> None:
        """mount pki, the only token sink, ttl in seconds, names as tuples."""
        entry = {
            "name": "tls",
            "recipe": "notion",
            "secret": "notion/tls",
            "pki": {
                "role": "devvm",
                "common_name": "app.devvm.test",
                "ttl": "72h",
                "alt_names": ["b.devvm.test"],
                "ip_sans": ["127.0.0.1"],
            },
        }
        [spec] = load(tmp_path, {"tokens": [TOKEN], "credentials": [entry]}).credentials.credentials

        assert spec.pki is not None
        assert (spec.pki.mount, spec.pki.role, spec.pki.token, spec.pki.ttl) == (
            "pki",
            "devvm",
            "devvm",
            72 * 3600,
        )
        assert spec.pki.alt_names == ("b.devvm.test",)
        assert spec.pki.ip_sans == ("127.0.0.1",)

    def test_pki_without_a_token_sink_is_refused(self, tmp_path: Path) -> None:
        """The certificate is issued with a renewed token: which one must be known."""
        entry = {
            "name": "tls",
            "recipe": "notion",
            "secret": "notion/tls",
            "pki": {"role": "devvm", "common_name": "x.devvm.test"},
        }

        text = refused(tmp_path, {"credentials": [entry]})

        assert "credentials[0].pki: pki needs token, the name of the token sink" in text

    def test_pki_naming_an_unknown_token_sink_is_refused(self, tmp_path: Path) -> None:
        """At its line."""
        entry = {
            "name": "tls",
            "recipe": "notion",
            "secret": "notion/tls",
            "pki": {"role": "devvm", "common_name": "x.devvm.test", "token": "other"},
        }

        text = refused(tmp_path, {"tokens": [TOKEN], "credentials": [entry]})

        assert "credentials[0].pki.token: no token sink named 'other' (known: devvm)" in text
        assert f"config.yaml:{line_of(tmp_path, 'token: other')}: " in text

    @pytest.mark.parametrize(
        ("sink", "message"),
        [
            (
                {"type": "aws_profile", "path": "~/.aws/credentials"},
                "missing required key 'profile'",
            ),
            (
                {"type": "aws_profile", "path": "~/.aws/c", "profile": "dev", "value": "x"},
                "an aws_profile sink takes profile",
            ),
            ({"type": "file", "path": "~/t", "profile": "dev"}, "only an aws_profile sink takes"),
            ({"type": "pem_bundle", "path": "~/c.pem", "value": "x"}, "takes no value or vars"),
            ({"type": "aws_profile", "path": "~/.aws/c", "profile": "a b"}, "AWS profile name"),
        ],
        ids=["no-profile", "profile-value", "file-profile", "bundle-value", "bad-profile"],
    )
    def test_bad_new_sinks_are_refused(
        self, tmp_path: Path, sink: dict[str, Any], message: str
    ) -> None:
        """Each mistake at the sink's line."""
        entry = {"name": "n", "recipe": "notion", "secret": "notion/a", "sinks": [sink]}

        assert message in refused(tmp_path, {"credentials": [entry]})

    def test_two_profiles_may_share_a_credentials_file(self, tmp_path: Path) -> None:
        """[dev] and [prod] of one file from two credentials; the same profile twice is refused."""

        def entry(name: str, profile: str) -> dict[str, Any]:
            sink = {"type": "aws_profile", "path": "~/.aws/credentials", "profile": profile}
            return {"name": name, "recipe": "aws_s3", "secret": f"aws_s3/{name}", "sinks": [sink]}

        config = load(tmp_path, {"credentials": [entry("dev", "dev"), entry("prod", "prod")]})
        text = refused(tmp_path, {"credentials": [entry("dev", "dev"), entry("again", "dev")]})

        assert len(config.credentials.credentials) == 2
        assert "profile [dev] of" in text
        assert "is already a sink of credential 'dev'" in text
