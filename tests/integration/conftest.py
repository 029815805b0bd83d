"""A throwaway home with a config and a token file, against the session's Vault peer.

Every test gets its own display name (``devvm-<random>``) so the shared server
can hold other tests' tokens without any of them being "ours" here; the
policies are shared and idempotent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from renewer.cli import run_cli
from renewer.config import Config, load_config
from tests import leakguard
from tests.vaultpeer import VaultPeer, unique

ADMIN = "renewer-test-admin"
SOPS = "renewer-test-sops"
WEAK = "renewer-test-weak"
POLICIES = {
    ADMIN: (
        'path "auth/token/*" '
        '{ capabilities = ["create", "read", "update", "delete", "list", "sudo"] }'
        '\npath "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }'
        '\npath "pki/issue/*" { capabilities = ["update"] }'
    ),
    SOPS: 'path "secret/data/sops/*" { capabilities = ["read"] }',
    WEAK: 'path "secret/data/ci/*" { capabilities = ["read"] }',
}

NO_ADDR = "-"  # World.addr: write no vault.addr at all

CONFIG = """\
version: 1
vault:
{addr_line}  read_timeout: {read_timeout}
{extra_vault}state_dir: {state}
run:
  deadline: {deadline}
  lock_timeout: {lock_timeout}
tokens:
  - name: devvm
    path: {sink}
    expect:
      display_name: token-{display}
      policies: [{admin}]
    mint:
      display_name: {display}
      policies: [{mint_policies}]
      period: {period}
    sweep: {sweep}
{login}"""


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def events(self) -> list[dict[str, Any]]:
        """The JSON log events renewer wrote to stderr."""
        found = []
        for line in self.err.splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def event(self, name: str) -> dict[str, Any]:
        matches = [event for event in self.events() if event.get("event") == name]
        assert matches, f"no {name} event in: {self.err}"
        return matches[-1]


@dataclass
class World:
    """One sink, its config and its Vault; helpers that play the other actors."""

    vault: VaultPeer
    home: Path
    capsys: pytest.CaptureFixture[str]
    display: str = field(default_factory=lambda: unique("devvm"))
    period: str = "768h"
    sweep: str = "on-heal"
    deadline: str = "20s"
    lock_timeout: str = "5s"
    read_timeout: str = "10s"
    extra: str = ""  # more YAML appended to the config (credentials, rotations...)
    extra_vault: str = ""  # more keys of the vault: section (e.g. "  ca_cert: ...\n")
    mint_policies: Sequence[str] = (ADMIN, SOPS)
    addr: str = ""
    login: str = ""  # the sink's login: (empty: the default, from the CLI on PATH)

    @property
    def sink(self) -> Path:
        return self.home / ".vault-token"

    @property
    def state(self) -> Path:
        return self.home / ".local" / "state" / "renewer"

    @property
    def config_path(self) -> Path:
        return self.home / "config.yaml"

    @property
    def ours(self) -> str:
        return f"token-{self.display}"

    def write_config(self) -> Path:
        self.config_path.write_text(
            CONFIG.format(
                addr_line=""
                if self.addr == NO_ADDR
                else f"  addr: {self.addr or self.vault.addr}\n",
                state=self.state,
                sink=self.sink,
                display=self.display,
                admin=ADMIN,
                mint_policies=", ".join(self.mint_policies),
                period=self.period,
                sweep=self.sweep,
                deadline=self.deadline,
                lock_timeout=self.lock_timeout,
                read_timeout=self.read_timeout,
                extra_vault=self.extra_vault,
                login=f"    login: {self.login}\n" if self.login else "",
            )
            + self.extra
        )
        return self.config_path

    def config(self) -> Config:
        return load_config(self.write_config(), environ={"HOME": str(self.home)})

    def create(self, **body: Any) -> str:
        """A token created by root (a stand-in for an admin or a login)."""
        response = self.vault.request("POST", "auth/token/create", json=body)
        assert response.status_code == 200, response.text
        token: str = response.json()["auth"]["client_token"]
        leakguard.remember(token)
        return token

    def mint_ours(self) -> str:
        return self.create(
            policies=[ADMIN, SOPS], period=self.period, display_name=self.display, no_parent=True
        )

    def admin_clobber(self) -> str:
        """What `vault login -method=oidc` leaves: a 7-day admin token, not ours."""
        return self.create(policies=[ADMIN], ttl="168h", display_name="oidc-wizard", no_parent=True)

    def weak_clobber(self) -> str:
        """The 2026-06-05 incident: a read-only kubernetes token."""
        return self.create(policies=[WEAK], ttl="1h", display_name="kubernetes-woodpecker-default")

    def write(self, token: str) -> None:
        self.sink.write_text(token)
        self.sink.chmod(0o600)

    def read(self) -> str:
        return self.sink.read_text()

    def lookup(self, token: str) -> dict[str, Any] | None:
        response = self.vault.request("GET", "auth/token/lookup-self", token=token)
        return response.json()["data"] if response.status_code == 200 else None

    def ours_alive(self) -> list[str]:
        """Accessors of live tokens named like ours."""
        if self.vault.controls is not None:
            return [t["accessor"] for t in self.vault.controls.tokens(display_name=self.ours)]
        keys = self.vault.request("LIST", "auth/token/accessors").json()["data"]["keys"]
        alive = []
        for accessor in keys:
            response = self.vault.request(
                "POST", "auth/token/lookup-accessor", json={"accessor": accessor}
            )
            if response.status_code == 200 and response.json()["data"]["display_name"] == self.ours:
                alive.append(accessor)
        return alive

    def cli(
        self, *args: str, env: dict[str, str] | None = None, log_format: str = "json"
    ) -> CliResult:
        """The real CLI in this process, JSON logs (or *log_format*), output leak-scanned."""
        self.write_config()
        self.capsys.readouterr()
        saved = dict(os.environ)
        os.environ.update(env or {})
        os.environ["HOME"] = str(self.home)
        if not env or "VAULT_TOKEN" not in env:
            os.environ.pop("VAULT_TOKEN", None)
        try:
            code = run_cli(["--config", str(self.config_path), "--log-format", log_format, *args])
        finally:
            os.environ.clear()
            os.environ.update(saved)
        captured = self.capsys.readouterr()
        leakguard.scan("cli stdout", captured.out)
        leakguard.scan("cli stderr", captured.err)
        return CliResult(code, captured.out, captured.err)

    def process(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """A real `renewer` process (for races and crashes)."""
        self.write_config()
        child_env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"VAULT_TOKEN", "VAULT_ADDR"}
        }
        child_env.update({"HOME": str(self.home), **(env or {})})
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "renewer",
                "--config",
                str(self.config_path),
                "--log-format",
                "json",
                *args,
            ],
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def finish(process: subprocess.Popen[str], timeout: float = 60) -> CliResult:
    out, err = process.communicate(timeout=timeout)
    leakguard.scan("child stdout", out)
    leakguard.scan("child stderr", err)
    return CliResult(process.returncode, out, err)


@pytest.fixture(scope="session")
def policies(vault_peer: VaultPeer) -> None:
    for name, text in POLICIES.items():
        response = vault_peer.request("PUT", f"sys/policies/acl/{name}", json={"policy": text})
        assert response.status_code in {200, 204}, response.text


@pytest.fixture
def world(
    vault: VaultPeer, policies: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> World:
    home = tmp_path / "home"
    home.mkdir()
    return World(vault=vault, home=home, capsys=capsys)
