"""``openssl s_server -Verify 1 -www``: OpenSSL's own TLS server, requiring a client certificate.

It listens on 127.0.0.1, port 0 (it prints ``ACCEPT 127.0.0.1:PORT``), serves
its certificate (from a trustme CA made by the test), requires a client
certificate (``-Verify 1``) signed by the CA it is given (``-CAfile``; with
``-verify_return_error``, without which s_server only logs a certificate it
cannot verify and goes on), and answers ``GET /`` with its status page. It
never answers a ``HEAD``: what issue 16 found renewer's old probe waiting on.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import trustme

START_WITHIN = 10.0  # seconds; s_server starts in milliseconds


class OpensslServer:
    """A running ``openssl s_server``; ``base_url`` is ``https://127.0.0.1:PORT``."""

    def __init__(self, directory: Path, *, server_ca: trustme.CA, client_ca_pem: str) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("the openssl command is not installed")
        directory.mkdir(parents=True, exist_ok=True)
        leaf = server_ca.issue_cert("127.0.0.1")
        cert, key, client_ca = (directory / name for name in ("srv.pem", "srv.key", "ca.pem"))
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        client_ca.write_text(client_ca_pem)
        self._log = directory / "s_server.out"
        with self._log.open("wb") as out:
            self._process = subprocess.Popen(
                [
                    openssl, "s_server", "-accept", "127.0.0.1:0",
                    "-cert", str(cert), "-key", str(key),
                    "-Verify", "1", "-verify_return_error", "-CAfile", str(client_ca), "-www",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.port = self._wait_for_port()
        self.base_url = f"https://127.0.0.1:{self.port}"

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            for line in self._log.read_text(errors="replace").splitlines():
                if line.startswith("ACCEPT "):
                    return int(line.rsplit(":", 1)[1])
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise AssertionError(f"openssl s_server did not start: {self._log.read_text()}")

    def output(self) -> str:
        return self._log.read_text(errors="replace")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
