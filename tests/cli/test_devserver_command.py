"""`renewer devserver`: bad --listen values are usage errors, a taken port is a clear error."""

from __future__ import annotations

import socket
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "renewer", "devserver", "--root-token", "t", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


class TestDevserverCommand:
    def test_a_non_loopback_listen_address_is_refused_as_usage(self) -> None:
        """Exit 2 and the reason; no traceback."""
        result = run("--listen", "0.0.0.0:8200")
        assert result.returncode == 2
        assert "loopback" in result.stderr
        assert "Traceback" not in result.stderr

    def test_a_malformed_listen_value_is_usage(self) -> None:
        """HOST:PORT or nothing."""
        result = run("--listen", "nonsense")
        assert result.returncode == 2
        assert "HOST:PORT" in result.stderr

    def test_a_taken_port_is_a_clear_error(self) -> None:
        """Exit 1 naming the address, not a traceback."""
        with socket.create_server(("127.0.0.1", 0)) as taken:
            port = taken.getsockname()[1]
            result = run("--listen", f"127.0.0.1:{port}")
        assert result.returncode == 1
        assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
        assert "Traceback" not in result.stderr
