"""No core file, whatever signal ends renewer: a dump would hold the token and the secrets.

Issue 20, item 8: a SIGQUIT during a hook wrote a 35 MB core holding the Vault
token and a service secret. Here a real ``renewer run`` is stopped by a real
SIGQUIT while its credential hook runs, in a directory where this machine
writes core files (``core_pattern`` is ``core`` on our machines; the control
process proves that a core is written there), started with an unlimited core
size as a developer's ``ulimit -c unlimited`` shell would. Each of the two
guards is also shown to be enough on its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.credentials.test_runner import static_setup
from tests.peers.api_server import ApiPeer
from tests.workspace import Workspace

Secrets = Callable[[str], str]
HOOK = """\
import os, sys, time
with open(sys.argv[1], "w") as out:
    out.write(str(os.getpid()))
time.sleep(120)
"""
QUIT_MYSELF = """\
import os, resource, signal, sys
if sys.argv[1] == "undumpable":
    from renewer.hardening import set_undumpable
    assert set_undumpable() == ""
resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
os.kill(os.getpid(), signal.SIGQUIT)
"""


# What a developer's ``ulimit -c unlimited`` shell gives the programs it starts.
UNLIMITED_CORES = ["sh", "-c", 'ulimit -c unlimited && exec "$@"', "sh"]


def core_limit(pid: int) -> list[str]:
    """Soft and hard RLIMIT_CORE of *pid*, from /proc."""
    limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
    return next(line for line in limits if line.startswith("Max core file size")).split()[4:6]


def cores(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.startswith("core"))


def quit_myself(directory: Path, mode: str) -> int:
    """A Python process that raises its own core limit and sends itself SIGQUIT."""
    completed = subprocess.run(
        [sys.executable, "-c", QUIT_MYSELF, mode],
        cwd=directory,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        check=False,
    )
    return completed.returncode


def wait_for(path: Path, process: subprocess.Popen[bytes]) -> str:
    """The content of *path* once the hook wrote it (the run is then inside its hook)."""
    while not path.exists() or not path.read_text():
        assert process.poll() is None, "renewer ended before its hook ran"
        time.sleep(0.05)
    return path.read_text()


def test_the_control_process_does_dump_core_here(tmp_path: Path) -> None:
    """Without the guards this machine writes a core into the working directory."""
    assert quit_myself(tmp_path, "plain") == -signal.SIGQUIT
    assert cores(tmp_path) != []


def test_undumpable_alone_is_enough_even_with_an_unlimited_core_size(tmp_path: Path) -> None:
    assert quit_myself(tmp_path, "undumpable") == -signal.SIGQUIT
    assert cores(tmp_path) == []


def test_a_sigquit_during_a_hook_leaves_no_core(
    workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets, tmp_path: Path
) -> None:
    """renewer run, inside its credential hook, gets SIGQUIT: it dies, and no core is written."""
    started = tmp_path / "hook.pid"
    (tmp_path / "hook.py").write_text(HOOK)
    hook = [sys.executable, str(tmp_path / "hook.py"), str(started)]
    static_setup(workspace, api_peer, make_secret("key"), hooks=[{"command": hook}])
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    renewer = subprocess.Popen(
        [*UNLIMITED_CORES, sys.executable, "-m", "renewer", "--log-format", "json", "run"],
        cwd=cwd,
        env={
            **os.environ,
            "HOME": str(workspace.home),
            "RENEWER_CONFIG": str(workspace.config_path),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    hook_pid = int(wait_for(started, renewer))
    try:
        limits, hook_limits = core_limit(renewer.pid), core_limit(hook_pid)

        renewer.send_signal(signal.SIGQUIT)
        code = renewer.wait(timeout=30)
    finally:
        os.kill(hook_pid, signal.SIGKILL)
        renewer.kill()
        renewer.wait()

    assert code == -signal.SIGQUIT
    assert cores(cwd) == []
    assert limits == ["0", "0"]  # soft and hard: nothing renewer starts can raise it
    assert hook_limits == ["0", "0"]
