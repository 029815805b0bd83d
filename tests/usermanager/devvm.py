"""The devvm user of the live tests: a checkout in their home, install.sh, their units.

Everything the user does runs as the user inside the manager's namespace
(tests/usermanager/manager.py); the test process plays the other actors:
root writing what a ``vault login`` would leave, the Vault peer, the webhook
receiver. Nothing here decides an assertion; the tests do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests import leakguard
from tests.integration.conftest import ADMIN, SOPS, WEAK
from tests.usermanager.manager import UserManager
from tests.vaultpeer import VaultPeer, unique

ROOT = Path(__file__).resolve().parents[2]
# What a user clones: install.sh needs these, nothing else of the checkout.
SOURCE = (
    "install.sh",
    "pyproject.toml",
    "README.md",
    "renewer",
    "requirements",
    "units",
    "docs",
    "runbooks",
)
T = TypeVar("T")

CONFIG = """\
version: 1
vault:
  addr: {addr}
  connect_timeout: 2s
run:
  deadline: {deadline}
  lock_timeout: 5s
  retry:
    first: {retry_first}
    max_delay: {retry_max}
    attempts: {retry_attempts}
notify:
  webhook: {webhook}
  timeout: 5s
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
class Devvm:
    manager: UserManager
    vault: VaultPeer
    webhook: str
    display: str = field(default_factory=lambda: unique("devvm"))

    @property
    def home(self) -> Path:
        return self.manager.home

    @property
    def source(self) -> Path:
        return self.home / "src" / "renewer"

    @property
    def state_file(self) -> Path:
        return self.home / ".local" / "state" / "renewer" / "state.json"

    @property
    def token_file(self) -> Path:
        return self.home / ".vault-token"

    # --- the checkout and install.sh -------------------------------------------

    def clone(self) -> None:
        """Copy the checkout's install inputs into ~/src/renewer, owned by the user."""
        for name in SOURCE:
            source = ROOT / name
            target = self.source / name
            if source.is_dir():
                shutil.copytree(
                    source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        for path in [self.source.parent, self.source, *self.source.rglob("*")]:
            os.chown(path, self.manager.uid, self.manager.uid)

    def source_files(self) -> set[str]:
        return {str(path.relative_to(self.source)) for path in self.source.rglob("*")}

    def install(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """``sh ~/src/renewer/install.sh ARGS`` as the user, pip using the machine's setup."""
        passed = {
            key: value
            for key, value in os.environ.items()
            if key.startswith("PIP_")
            or key.lower() in {"http_proxy", "https_proxy", "no_proxy"}
            or key in {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"}
        }
        passed.pop("PIP_CACHE_DIR", None)
        passed["PIP_NO_CACHE_DIR"] = "1"  # the user's home keeps nothing of pip's
        completed = self.manager.user(
            "sh",
            str(self.source / "install.sh"),
            *args,
            env={**passed, "PYTHON": self.manager.python, **env},
            timeout=900,
        )
        leakguard.scan("install.sh stdout", completed.stdout)
        leakguard.scan("install.sh stderr", completed.stderr)
        return completed

    # --- what the user and the other actors write --------------------------------

    def configure(
        self,
        *,
        addr: str | None = None,
        deadline: str = "20s",
        retry_first: str = "5m",
        retry_max: str = "1h",
        retry_attempts: int = 6,
    ) -> None:
        self.manager.write(
            ".config/renewer/config.yaml",
            CONFIG.format(
                addr=addr or self.vault.addr,
                deadline=deadline,
                retry_first=retry_first,
                retry_max=retry_max,
                retry_attempts=retry_attempts,
                webhook=self.webhook,
                display=self.display,
                admin=ADMIN,
                sops=SOPS,
            ),
        )

    def create_token(self, **body: Any) -> str:
        response = self.vault.request("POST", "auth/token/create", json=body)
        assert response.status_code == 200, response.text
        token: str = response.json()["auth"]["client_token"]
        leakguard.remember(token)
        return token

    def ours(self) -> str:
        return self.create_token(
            policies=[ADMIN, SOPS], period="768h", display_name=self.display, no_parent=True
        )

    def admin_clobber(self) -> str:
        """What `vault login -method=oidc` leaves: an admin token that is not ours."""
        return self.create_token(
            policies=[ADMIN], ttl="168h", display_name="oidc-wizard", no_parent=True
        )

    def weak_clobber(self) -> str:
        """The 2026-06-05 incident: a read-only kubernetes token."""
        return self.create_token(
            policies=[WEAK], ttl="1h", display_name="kubernetes-woodpecker-default"
        )

    def write_token(self, token: str) -> None:
        self.manager.write(".vault-token", token)

    def lookup(self, token: str) -> dict[str, Any] | None:
        response = self.vault.request("GET", "auth/token/lookup-self", token=token)
        return response.json()["data"] if response.status_code == 200 else None

    # --- asking systemd, the journal and renewer -------------------------------------

    def systemctl(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return self.manager.systemctl(*args, timeout=timeout)

    def start(self) -> subprocess.CompletedProcess[str]:
        """``systemctl --user start renewer.service``: returns when the oneshot is done."""
        return self.systemctl("start", "renewer.service")

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        answer = self.systemctl("show", unit, *(f"--property={name}" for name in properties))
        return dict(line.split("=", 1) for line in answer.stdout.splitlines() if "=" in line)

    def timers(self) -> dict[str, dict[str, Any]]:
        """``systemctl --user list-timers --all -o json``, by unit."""
        answer = self.systemctl("list-timers", "--all", "--output=json")
        assert answer.returncode == 0, answer.stderr
        return {entry["unit"]: entry for entry in json.loads(answer.stdout or "[]")}

    def journal(self, *matches: str) -> list[dict[str, Any]]:
        """The user's journal entries matching FIELD=value *matches*, as JSON objects."""
        answer = self.manager.user("journalctl", "--user", "--output=json", "--no-pager", *matches)
        leakguard.scan("journal", answer.stdout)
        return [json.loads(line) for line in answer.stdout.splitlines() if line.startswith("{")]

    def tail(self, *units: str) -> str:
        """The last journal lines of *units* (every unit of ours by default), for a failure."""
        names = units or ("renewer.service", "renewer-notify@renewer.service")
        matches = [arg for unit in names for arg in ("--user-unit", unit)]
        answer = self.manager.user(
            "journalctl", "--user", "--no-pager", "-n", "60", "-o", "short-precise", *matches
        )
        return answer.stdout + answer.stderr

    def renewer(self, *args: str) -> subprocess.CompletedProcess[str]:
        completed = self.manager.user(str(self.home / ".local" / "bin" / "renewer"), *args)
        leakguard.scan("renewer stdout", completed.stdout)
        leakguard.scan("renewer stderr", completed.stderr)
        return completed

    def state(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.state_file.read_text())
        return document

    def reset(self) -> None:
        """Between scenarios: our token in place, the standard config, no failed state."""
        self.configure()
        self.write_token(self.ours())
        self.systemctl("stop", "renewer-retry@*.timer")
        self.systemctl("reset-failed", "renewer.service", "renewer-notify@*.service")


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    *,
    timeout: float = 120,
    context: Callable[[], str] = lambda: "",
) -> T:
    """Poll *probe* until it returns something; fail naming *what* after *timeout* seconds.

    A bound on waiting for an event, not a timing assertion: nothing here
    checks how fast anything happened.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:g}s\n{context()}")
        time.sleep(0.25)
