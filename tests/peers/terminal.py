"""Run a command in a pseudo-terminal, as a person at a shell would, and read the screen.

The vault/bao CLIs capture their token helper's output (``CombinedOutput``)
and show it only when the helper fails; renewer's helper therefore also
writes its one line to ``/dev/tty``. Only a controlling terminal makes that
path real, so tests that check what the person sees run the CLI here: a new
session whose controlling terminal is the pty, stdin/stdout/stderr on it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import subprocess
import termios
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Screen:
    code: int
    text: str  # everything written to the terminal, CR/LF normalised


def _controlling_terminal() -> None:
    # start_new_session made us a session leader; adopt stdin (the pty) as our terminal
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_in_terminal(
    argv: Sequence[str], *, env: dict[str, str], cwd: str | None = None, timeout: float = 120
) -> Screen:
    """Run *argv* on a fresh pty; return its exit code and what appeared on the screen."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_controlling_terminal,  # noqa: PLW1509 - single-threaded enough for a test
        )
    finally:
        os.close(follower)
    chunks: list[bytes] = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every writer closed the pty
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=timeout)
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return Screen(code, text)
