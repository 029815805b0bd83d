"""Tests for renewer.config: the issue's exact shape works; every mistake names file, line, key."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewer.config import load_config
from renewer.core.model import SweepMode
from renewer.errors import ConfigError

ISSUE_EXAMPLE = """\
version: 1
vault:
  addr: https://vault.example.com:8200   # default: $VAULT_ADDR
  ca_cert: /etc/ssl/vault-ca.pem         # default: $VAULT_CACERT; TLS is always verified
tokens:
  - name: devvm
    path: ~/.vault-token
    expect:
      display_name: token-devvm-wizard   # as Vault reports it
      policies: [vault-admin]            # all required
    mint:
      display_name: devvm-wizard
      policies: [vault-admin, sops-admin]
      period: 768h
    sweep: on-heal                        # on-heal (default) | always | never
"""
ENV = {"HOME": "/home/wizard"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def error_for(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), environ=environ or ENV)
    return str(caught.value)


class TestLoadConfig:
    def test_the_issue_example_loads(self, tmp_path: Path) -> None:
        """The exact shape from the issue works, with ~ expanded against $HOME."""
        config = load_config(write(tmp_path, ISSUE_EXAMPLE), environ=ENV)
        sink = config.tokens[0]
        assert sink.path == Path("/home/wizard/.vault-token")
        assert sink.mint.period == 2_764_800
        assert sink.mint.policies == ("sops-admin", "vault-admin")
        assert sink.expect.policies == frozenset({"vault-admin"})
        assert sink.sweep is SweepMode.ON_HEAL
        assert config.vault.addr_source == "config"
        assert config.state_dir == Path("/home/wizard/.local/state/renewer")

    def test_vault_addr_and_ca_default_from_the_environment(self, tmp_path: Path) -> None:
        """VAULT_ADDR/VAULT_CACERT fill in what the config leaves out, and say so."""
        text = ISSUE_EXAMPLE.replace(
            "  addr: https://vault.example.com:8200   # default: $VAULT_ADDR\n", ""
        )
        text = "\n".join(line for line in text.splitlines() if "ca_cert:" not in line) + "\n"
        env = {**ENV, "VAULT_ADDR": "https://v.example:8200", "VAULT_CACERT": "/ca.pem"}
        config = load_config(write(tmp_path, text), environ=env)
        assert (config.vault.addr, config.vault.addr_source) == (
            "https://v.example:8200",
            "$VAULT_ADDR",
        )
        assert config.vault.ca_cert == Path("/ca.pem")

    @pytest.mark.parametrize(
        ("extra", "addr", "source", "ca"),
        [
            ({"BAO_ADDR": "https://b:8200", "BAO_CACERT": "/b.pem"}, "https://b:8200", "BAO", "/b"),
            (
                {"BAO_ADDR": "https://b:8200", "VAULT_ADDR": "https://v:8200"},
                "https://v:8200",
                "VAULT",
                None,
            ),
            ({"BAO_CACERT": "/b.pem", "VAULT_CACERT": "/v.pem"}, "", "", "/v"),
            ({"BAO_ADDR": "https://b:8200", "VAULT_ADDR": ""}, "https://b:8200", "BAO", None),
        ],
        ids=["bao-only", "vault-wins", "vault-ca-wins", "empty-vault-is-absent"],
    )
    def test_bao_variables_fill_in_where_the_vault_ones_are_absent(
        self, tmp_path: Path, extra: dict[str, str], addr: str, source: str, ca: str | None
    ) -> None:
        """An OpenBao shell (BAO_ADDR, BAO_CACERT) works; VAULT_* win when both are set."""
        lines = ISSUE_EXAMPLE.splitlines()
        text = "\n".join(line for line in lines if "addr:" not in line and "ca_cert:" not in line)
        config = load_config(write(tmp_path, text + "\n"), environ={**ENV, **extra})
        if addr:
            assert (config.vault.addr, config.vault.addr_source) == (addr, f"${source}_ADDR")
        assert config.vault.ca_cert == (Path(f"{ca}.pem") if ca else None)

    def test_renewer_config_env_names_the_file(self, tmp_path: Path) -> None:
        """$RENEWER_CONFIG is the default path."""
        path = write(tmp_path, ISSUE_EXAMPLE)
        assert load_config(None, environ={**ENV, "RENEWER_CONFIG": str(path)}).source == path


class TestConfigErrors:
    def test_a_wrong_type_names_file_line_and_key(self, tmp_path: Path) -> None:
        """`config.yaml:14: tokens[0].policies: expected a list` style."""
        message = error_for(
            tmp_path, ISSUE_EXAMPLE.replace("policies: [vault-admin]  ", "policies: vault-admin")
        )
        assert "config.yaml:10: tokens[0].expect.policies: expected a list, got a string" in message

    def test_an_unknown_key_is_named_with_the_allowed_ones(self, tmp_path: Path) -> None:
        """A typo is caught, not ignored."""
        message = error_for(
            tmp_path, ISSUE_EXAMPLE.replace("    sweep: on-heal", "    swep: on-heal")
        )
        assert ":15: tokens[0].swep: unknown key 'swep' (allowed:" in message

    def test_a_bad_duration_says_what_a_duration_is(self, tmp_path: Path) -> None:
        """period: 32 days is not a duration."""
        message = error_for(tmp_path, ISSUE_EXAMPLE.replace("period: 768h", "period: 32 days"))
        assert ":14: tokens[0].mint.period: expected a duration like 768h" in message

    def test_an_impossible_expect_mint_pair_is_caught_with_the_fix(self, tmp_path: Path) -> None:
        """Every heal would be rejected: say so now, with the right value."""
        message = error_for(
            tmp_path, ISSUE_EXAMPLE.replace("display_name: devvm-wizard", "display_name: devvm")
        )
        assert "reported by Vault as 'token-devvm'" in message
        assert "every heal would be rejected" in message

    def test_expected_policies_missing_from_mint_are_caught(self, tmp_path: Path) -> None:
        """A minted token without vault-admin would fail the guard."""
        message = error_for(
            tmp_path, ISSUE_EXAMPLE.replace("[vault-admin, sops-admin]", "[sops-admin]")
        )
        assert "lack expected policies vault-admin" in message

    def test_duplicate_yaml_keys_are_refused(self, tmp_path: Path) -> None:
        """PyYAML would keep the last one silently."""
        message = error_for(tmp_path, ISSUE_EXAMPLE + "version: 1\n")
        assert "duplicate key" in message

    def test_missing_file_and_empty_file_and_bad_yaml_are_clear(self, tmp_path: Path) -> None:
        """No traceback, the path named."""
        with pytest.raises(ConfigError, match="file not found"):
            load_config(tmp_path / "absent.yaml", environ=ENV)
        assert "empty" in error_for(tmp_path, "")
        assert "invalid YAML" in error_for(tmp_path, "version: [1\n")

    def test_plain_http_to_another_host_is_refused(self, tmp_path: Path) -> None:
        """Tokens must not cross a network in clear unless explicitly allowed."""
        text = ISSUE_EXAMPLE.replace(
            "https://vault.example.com:8200", "http://vault.example.com:8200"
        )
        assert "in clear" in error_for(tmp_path, text)
        loopback = ISSUE_EXAMPLE.replace("https://vault.example.com:8200", "http://127.0.0.1:8200")
        assert (
            load_config(write(tmp_path, loopback), environ=ENV).vault.addr
            == "http://127.0.0.1:8200"
        )

    def test_duplicate_sink_names_are_refused(self, tmp_path: Path) -> None:
        """Two items called devvm would make --only ambiguous."""
        second = ISSUE_EXAMPLE.split("tokens:\n", 1)[1].replace("~/.vault-token", "~/.other")
        message = error_for(tmp_path, ISSUE_EXAMPLE + second)
        assert "duplicate token name 'devvm'" in message

    def test_the_wrong_version_is_refused(self, tmp_path: Path) -> None:
        """A future config format is not guessed at."""
        assert "expected version: 1" in error_for(
            tmp_path, ISSUE_EXAMPLE.replace("version: 1", "version: 2")
        )


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_any_text_either_loads_or_raises_config_error(tmp_path: Path, text: str) -> None:
    """Hostile input: never a traceback, only a ConfigError (exit 78)."""
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    try:
        load_config(path, environ=ENV)
    except ConfigError as error:
        assert str(path) in str(error)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=20),
        st.lists(st.text(max_size=5), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    ),
    key=st.sampled_from(["name", "path", "period", "policies", "display_name", "sweep"]),
)
def test_any_value_in_any_token_key_is_reported_cleanly(
    tmp_path: Path, value: object, key: str
) -> None:
    """Structured fuzz: replace one value; the result loads or names the problem."""
    import yaml

    document = yaml.safe_load(ISSUE_EXAMPLE)
    sink = document["tokens"][0]
    for section in (sink, sink["expect"], sink["mint"]):
        if key in section:
            section[key] = value
    path = tmp_path / "structured.yaml"
    path.write_text(yaml.safe_dump(document))
    try:
        load_config(path, environ=ENV)
    except ConfigError as error:
        assert str(path) in str(error)


class TestValidationCache:
    def test_an_unchanged_config_is_validated_once_and_an_edit_is_validated_again(
        self, tmp_path: Path
    ) -> None:
        """The marker is per content: a broken edit is never hidden by an old success."""
        env = {"HOME": str(tmp_path)}
        path = write(tmp_path, ISSUE_EXAMPLE)
        load_config(path, environ=env)
        markers = list((tmp_path / ".cache" / "renewer" / "validated").iterdir())
        assert len(markers) == 1
        load_config(path, environ=env)
        assert len(list(markers[0].parent.iterdir())) == 1
        path.write_text(ISSUE_EXAMPLE.replace("period: 768h", "period: soon"))
        with pytest.raises(ConfigError, match="mint.period"):
            load_config(path, environ=env)
