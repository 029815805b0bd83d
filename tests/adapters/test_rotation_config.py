"""Tests for the ``rotations:`` section of the config: the documented shapes, and every mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from renewer.config import RotationType, load_config
from renewer.errors import ConfigError
from renewer.rotation.schedule import Schedule

BASE = """\
version: 1
vault:
  addr: https://vault.example.com:8200
tokens:
  - name: devvm
    path: ~/.vault-token
    expect:
      display_name: token-devvm-wizard
      policies: [vault-admin]
    mint:
      display_name: devvm-wizard
      policies: [vault-admin]
      period: 768h
rotations:
"""
TOKEN_ROTATION = """\
  - name: devvm-token
    type: vault-token
    token: devvm
    schedule: "0 2 * * 0"
    timezone: Asia/Tokyo
    grace: 24h
"""
APPROLE_ROTATION = """\
  - name: ci
    type: approle
    role: ci-runner
    token: devvm
    role_id_file: ~/.config/ci/role-id
    secret_id_file: ~/.config/ci/secret-id
    every: 30d
    grace: 2h
    check: [ci-probe, --credential, "{credential_file}", --name, "{name}"]
"""
ENV = {"HOME": "/home/wizard"}


def load(tmp_path: Path, rotations: str) -> object:
    path = tmp_path / "config.yaml"
    path.write_text(BASE + rotations)
    return load_config(path, environ=ENV)


def error_for(tmp_path: Path, rotations: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, rotations)
    assert caught.value.exit_code == 78
    return caught.value


class TestRotationConfig:
    def test_the_documented_examples_load(self, tmp_path: Path) -> None:
        """A weekly Tokyo token rotation and a 30-day AppRole rotation."""
        config = load(tmp_path, TOKEN_ROTATION + APPROLE_ROTATION)
        token, approle = config.rotations  # type: ignore[attr-defined]
        assert token.type is RotationType.VAULT_TOKEN
        assert token.schedule == Schedule(cron="0 2 * * 0", timezone="Asia/Tokyo")
        assert (token.grace, token.retry_after) == (86400, 86400)
        assert approle.type is RotationType.APPROLE
        assert approle.schedule == Schedule(every=30 * 86400)
        assert (approle.role, approle.mount, approle.grace) == ("ci-runner", "approle", 7200)
        assert approle.secret_id_file == Path("/home/wizard/.config/ci/secret-id")
        assert approle.check[2] == "{credential_file}"

    def test_without_a_schedule_a_rotation_is_by_hand_only(self, tmp_path: Path) -> None:
        """No schedule and no every: `renewer rotate NAME --now` only."""
        config = load(tmp_path, "  - {name: r, type: vault-token, token: devvm}\n")
        assert config.rotations[0].schedule == Schedule()  # type: ignore[attr-defined]

    def test_an_empty_section_is_no_rotations(self, tmp_path: Path) -> None:
        """`rotations:` with everything commented out."""
        assert load(tmp_path, "  # none yet\n").rotations == ()  # type: ignore[attr-defined]

    def test_lookup_by_name_names_the_known_ones(self, tmp_path: Path) -> None:
        """`renewer rotate typo` says what exists."""
        config = load(tmp_path, TOKEN_ROTATION)
        with pytest.raises(ConfigError, match=r"no rotation named 'typo' \(known: devvm-token\)"):
            config.rotation("typo")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("rotations", "expected"),
    [
        (
            TOKEN_ROTATION.replace("    timezone: Asia/Tokyo\n", ""),
            "config.yaml:18: rotations[0].schedule: a schedule needs a timezone",
        ),
        (
            TOKEN_ROTATION.replace("Asia/Tokyo", "Mars/Olympus"),
            "config.yaml:19: rotations[0].timezone: unknown timezone 'Mars/Olympus'",
        ),
        (
            TOKEN_ROTATION.replace('"0 2 * * 0"', '"every sunday"'),
            "config.yaml:18: rotations[0].schedule: expected a cron expression of five fields",
        ),
        (
            TOKEN_ROTATION + "    every: 7d\n",
            "config.yaml:21: rotations[0].every: give either schedule (cron) or every, not both",
        ),
        (
            "  - {name: r, type: vault-token, token: devvm, timezone: UTC}\n",
            "config.yaml:15: rotations[0].timezone: a timezone only applies to a schedule",
        ),
        (
            "  - {name: r, type: vault-token, token: devvm, every: 0}\n",
            "config.yaml:15: rotations[0].every: must be more than 0",
        ),
        (
            "  - {name: r, type: vault-token, token: nosuch}\n",
            "config.yaml:15: rotations[0].token: no token sink named 'nosuch' (known: devvm)",
        ),
        (
            TOKEN_ROTATION + TOKEN_ROTATION.replace("devvm-token", "again"),
            "config.yaml:23: rotations[1].token: token sink 'devvm' already has a rotation",
        ),
        (
            TOKEN_ROTATION + TOKEN_ROTATION,
            "config.yaml:21: rotations[1].name: duplicate rotation name 'devvm-token'",
        ),
        (
            TOKEN_ROTATION.replace("grace: 24h", "grace: 40d"),
            "config.yaml:20: rotations[0].grace: a grace of 3456000s is not shorter than the "
            "token's period (2764800s)",
        ),
        (
            TOKEN_ROTATION + "    role: ci\n",
            "config.yaml:21: rotations[0].role: only for type: approle",
        ),
        (
            APPROLE_ROTATION.replace("    role: ci-runner\n", ""),
            "config.yaml:15: rotations[0]: an approle rotation needs role:",
        ),
        (
            APPROLE_ROTATION.replace("~/.config/ci/secret-id", "~/.vault-token"),
            "config.yaml:20: rotations[0].secret_id_file: /home/wizard/.vault-token is already "
            "token sink 'devvm''s file",
        ),
        (
            APPROLE_ROTATION + APPROLE_ROTATION.replace("name: ci", "name: ci2"),
            "config.yaml:29: rotations[1].secret_id_file: /home/wizard/.config/ci/secret-id is "
            "already rotation 'ci''s file",
        ),
        (
            APPROLE_ROTATION.replace('"{credential_file}"', '"{token}"'),
            "config.yaml:23: rotations[0].check: item 2: unknown placeholder {token} "
            "(known: {credential_file}, {name})",
        ),
        (
            APPROLE_ROTATION.replace('"{credential_file}"', '"{oops"'),
            "config.yaml:23: rotations[0].check: item 2:",
        ),
        (
            "  - {name: r, type: ssh-key, token: devvm}\n",
            "config.yaml:15: rotations[0].type: must be one of 'vault-token', 'approle'",
        ),
        (
            "  - {name: r, type: vault-token, token: devvm, grace: soon}\n",
            "config.yaml:15: rotations[0].grace: expected a duration like 768h",
        ),
        (
            "  - {name: r, type: vault-token, token: devvm, colour: blue}\n",
            "config.yaml:15: rotations[0].colour: unknown key 'colour'",
        ),
        (
            "  - {name: r, type: approle, token: devvm, role: 'a b', secret_id_file: x}\n",
            "config.yaml:15: rotations[0].role: expected an AppRole role name",
        ),
    ],
    ids=[
        "schedule-without-timezone",
        "unknown-timezone",
        "bad-cron",
        "schedule-and-every",
        "timezone-without-schedule",
        "zero-every",
        "unknown-token",
        "two-rotations-one-sink",
        "duplicate-name",
        "grace-too-long",
        "approle-key-on-token",
        "approle-without-role",
        "secret-id-file-is-a-sink",
        "secret-id-file-shared",
        "unknown-placeholder",
        "malformed-placeholder",
        "unknown-type",
        "bad-duration",
        "unknown-key",
        "bad-role-name",
    ],
)
def test_every_mistake_names_file_line_and_key(
    tmp_path: Path, rotations: str, expected: str
) -> None:
    """Exit 78 with `config.yaml:LINE: rotations[i].key: what is wrong`."""
    message = str(error_for(tmp_path, rotations))
    assert expected in message


DOCS = Path(__file__).resolve().parents[2] / "docs" / "rotation.md"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("document", [DOCS, README], ids=["docs-rotation", "readme"])
def test_the_documented_example_config_loads(tmp_path: Path, document: Path) -> None:
    """The first YAML example of the page is a valid config with rotations."""
    text = document.read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "config.yaml"
    path.write_text(example)
    config = load_config(path, environ=ENV)
    assert config.rotations
    assert config.rotations[0].schedule.timezone == "Asia/Tokyo"


EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "config.example.yaml"
_SECTION = re.compile(r"^# (tokens|credentials|rotations):$")


def uncommented(text: str) -> str:
    """The example with its commented sections switched on, as a user would by deleting `# `."""
    lines, inside = [], False
    for raw in text.splitlines():
        inside = (inside or bool(_SECTION.match(raw))) and bool(raw.strip())
        line = (raw[2:] if raw.startswith("# ") else raw.removeprefix("#")) if inside else raw
        lines.append(line.replace("  # addr: ", "  addr: "))
    return "\n".join(lines) + "\n"


class TestTheInstalledExample:
    def test_uncommented_it_is_a_valid_config_with_every_rotation_type(
        self, tmp_path: Path
    ) -> None:
        """docs/config.example.yaml (what install.sh writes) shows each rotation type and its
        policy; switched on as written, it loads without an error."""
        path = tmp_path / "config.yaml"
        path.write_text(uncommented(EXAMPLE.read_text()))

        config = load_config(path, environ={"HOME": str(tmp_path)})

        assert [r.type for r in config.rotations] == list(RotationType)
        static = config.rotation("github-webhook")
        assert (static.register_credential, static.credential) == ("github-api", "github-hooks")
        assert all(r.grace > 0 for r in config.rotations)

    @pytest.mark.parametrize(
        "policy",
        [
            'path "auth/token/create-orphan"   { capabilities = ["update", "sudo"] }',
            'path "auth/approle/role/ci-runner/role-id"              { capabilities = ["read"] }',
            'path "secret/data/renewer/*" { capabilities = ["create", "read", "update"] }',
        ],
    )
    def test_it_names_the_policy_each_type_needs(self, policy: str) -> None:
        """The HCL a Vault admin pastes, beside each rotation type."""
        assert policy in EXAMPLE.read_text()
