"""``renewer devserver`` as a process: banner, loopback guard, clean stop on signals."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest
import requests

from renewer.devserver.serve import ListenError, parse_listen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestParseListen:
    @pytest.mark.parametrize(
        ("listen", "expected"),
        [
            ("127.0.0.1:8200", ("127.0.0.1", 8200)),
            ("localhost:0", ("localhost", 0)),
            ("[::1]:8300", ("::1", 8300)),
        ],
    )
    def test_loopback_addresses_parse(self, listen: str, expected: tuple[str, int]) -> None:
        """HOST:PORT on loopback, IPv6 in brackets."""
        assert parse_listen(listen) == expected

    @pytest.mark.parametrize("listen", ["0.0.0.0:8200", "192.0.2.1:8200", "example.com:1"])
    def test_non_loopback_is_refused_unless_allowed(self, listen: str) -> None:
        """A root-token server does not listen beyond this machine by accident."""
        with pytest.raises(ListenError, match="refusing"):
            parse_listen(listen)
        assert parse_listen(listen, allow_remote=True)[1] > 0

    @pytest.mark.parametrize("listen", ["8200", "host:", "host:port", "127.0.0.1:70000"])
    def test_malformed_listen_is_refused(self, listen: str) -> None:
        """Anything but HOST:PORT is a usage error."""
        with pytest.raises(ListenError):
            parse_listen(listen)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_module_runs_prints_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    """``python -m renewer.devserver`` prints the address and token, serves, exits 0."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "renewer.devserver",
            "--listen",
            f"127.0.0.1:{port}",
            "--root-token",
            "proc-root",
            "--dev-controls",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(9)]
        health = requests.get(f"http://127.0.0.1:{port}/v1/sys/health", timeout=5)
        lookup = requests.get(
            f"http://127.0.0.1:{port}/v1/auth/token/lookup-self",
            headers={"X-Vault-Token": "proc-root"},
            timeout=5,
        )
        process.send_signal(stop_signal)
        rest, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()

    text = "".join(banner)
    assert "IN-MEMORY DEVELOPMENT AND TEST SERVER" in text
    assert f"export VAULT_ADDR='http://127.0.0.1:{port}'" in text
    assert "Root Token: proc-root" in text
    assert health.status_code == 200
    assert lookup.json()["data"]["id"] == "proc-root"
    assert process.returncode == 0
    assert "stopped" in rest


def test_module_refuses_non_loopback_listen() -> None:
    """``--listen 0.0.0.0:...`` is a usage error (exit 2) without ``--allow-remote``."""
    result = subprocess.run(
        [sys.executable, "-m", "renewer.devserver", "--listen", "0.0.0.0:8200"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert "refusing to listen" in result.stderr
