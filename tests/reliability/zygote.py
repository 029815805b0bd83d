"""A pre-imported renewer that forks real renewer processes for the crash harness.

``python -m renewer`` spends about half a second importing (hvac, requests,
cryptography, structlog) before it does anything. A kill at a random moment
would then land in the import most of the time and test nothing, and
hundreds of kills would take many minutes. The zygote imports everything
once, then for each request forks a child that runs exactly what
``python -m renewer ARGS`` runs (``renewer.cli.run_cli``) with its own
environment, stdout and stderr: a separate process, SIGKILLed for real,
whose random kill delays are drawn over the work itself.

The zygote is single-threaded (forking is safe) and talks JSON lines on
stdin/stdout. A request names the argv, the environment, two output files,
and optionally ``kill_after`` seconds; the reply gives the child's exit code
(``-9`` when killed), whether the zygote killed it, and the elapsed time.
Crash points (``RENEWER_CRASHPOINT``) are re-read by the child after the fork.

:class:`Zygote` is the test side: ``Zygote().run(args, env=..., kill_after=0.12)``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _preload() -> None:
    """Import everything a run, mint, sweep or rotate would import lazily."""
    import renewer.cli
    import renewer.commands
    import renewer.credentials.runner
    import renewer.primitives.aws
    import renewer.primitives.aws_sts
    import renewer.primitives.mtls
    import renewer.primitives.oauth2
    import renewer.rotation.runner
    import renewer.run
    import renewer.tokens
    import renewer.vault  # noqa: F401


def _child(request: Mapping[str, Any]) -> None:
    """In the forked child: become ``renewer ARGS`` and exit with its code."""
    code = 70
    try:
        from renewer import crashpoints
        from renewer.cli import run_cli

        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(request["stdout_fd"], 1)
        os.dup2(request["stderr_fd"], 2)
        for fd in (null, request["stdout_fd"], request["stderr_fd"]):
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request.get("cwd") or "/")
        sys.argv = ["renewer", *request["args"]]
        crashpoints.reload()
        random.seed()
        if request.get("sabotage"):
            from tests.reliability import sabotage

            sabotage.apply(request["sabotage"])
        code = run_cli(list(request["args"]))
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed stream must not change the code
                stream.flush()
        os._exit(code)


_children: dict[int, tuple[int, float]] = {}  # pid → (pidfd, start time)


def _spawn(request: Mapping[str, Any]) -> dict[str, Any]:
    # The output files exist before the fork: a child killed a microsecond in still has them.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    out = os.open(request["stdout"], flags, 0o600)
    err = os.open(request["stderr"], flags, 0o600)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child({**request, "stdout_fd": out, "stderr_fd": err})
    os.close(out)
    os.close(err)
    _children[pid] = (os.pidfd_open(pid), started)
    return {"pid": pid}


def _wait(pid: int, *, kill_after: float | None, timeout: float) -> dict[str, Any]:
    pidfd, started = _children.pop(pid)
    try:
        wait = kill_after if kill_after is not None else timeout
        finished, _, _ = select.select([pidfd], [], [], max(wait, 0.0))
        killed = not finished
        if killed:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    finally:
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    return {
        "pid": pid,
        "code": os.waitstatus_to_exitcode(status),
        "killed_by_us": killed,
        "timed_out": killed and kill_after is None,
        "elapsed": time.monotonic() - started,
    }


def _serve(request: Mapping[str, Any]) -> dict[str, Any]:
    """``run`` (fork, wait, maybe kill), ``spawn`` (fork, answer at once) or ``wait``."""
    op = request.get("op", "run")
    timeout = float(request.get("timeout", 60))
    kill_after = request.get("kill_after")
    if op == "wait":
        return _wait(int(request["pid"]), kill_after=None, timeout=timeout)
    spawned = _spawn(request)
    if op == "spawn":
        return spawned
    return _wait(spawned["pid"], kill_after=kill_after, timeout=timeout)


def main() -> None:
    _preload()
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    for line in sys.stdin:
        if not line.strip():
            continue
        replies.write(json.dumps(_serve(json.loads(line))) + "\n")


@dataclass(frozen=True)
class Outcome:
    """How one forked renewer ended."""

    code: int  # -9 when SIGKILLed (by itself at a crash point, or by the zygote)
    out: str
    err: str
    elapsed: float
    killed_by_us: bool

    @property
    def killed(self) -> bool:
        return self.code == -signal.SIGKILL

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.err.splitlines() if line.startswith("{")]


@dataclass(frozen=True)
class Child:
    """A renewer forked with :meth:`Zygote.spawn`, not yet waited for."""

    pid: int
    out: Path
    err: Path


class Zygote:
    """The test side: one zygote process per session."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in {"VAULT_TOKEN", "VAULT_ADDR"}}
        env.pop("RENEWER_CRASHPOINT", None)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.zygote"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._scratch = Path(tempfile.mkdtemp(prefix="renewer-zygote-"))
        self._serial = 0

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote died (exit {self._process.poll()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _request(
        self, op: str, args: Sequence[str], env: Mapping[str, str], **extra: Any
    ) -> tuple[dict[str, Any], Path, Path]:
        self._serial += 1
        out = self._scratch / f"{self._serial}.out"
        err = self._scratch / f"{self._serial}.err"
        request = {
            "op": op,
            "args": list(args),
            "env": dict(env),
            "stdout": str(out),
            "stderr": str(err),
            **extra,
        }
        return request, out, err

    def run(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        kill_after: float | None = None,
        timeout: float = 60,
        cwd: Path | None = None,
        sabotage: str = "",
    ) -> Outcome:
        """Fork ``renewer ARGS`` with *env*; SIGKILL it after *kill_after* s if still running."""
        request, out, err = self._request(
            "run",
            args,
            env,
            kill_after=kill_after,
            timeout=timeout,
            cwd=str(cwd) if cwd else None,
            sabotage=sabotage,
        )
        reply = self._ask(request)
        assert not reply["timed_out"], f"renewer {' '.join(args)} ran past {timeout}s"
        return self._outcome(reply, out, err)

    def spawn(self, args: Sequence[str], *, env: Mapping[str, str]) -> Child:
        """Fork ``renewer ARGS`` and return at once (races start several before waiting)."""
        request, out, err = self._request("spawn", args, env)
        return Child(int(self._ask(request)["pid"]), out, err)

    def wait(self, child: Child, *, timeout: float = 120) -> Outcome:
        reply = self._ask({"op": "wait", "pid": child.pid, "timeout": timeout})
        assert not reply["timed_out"], f"renewer (pid {child.pid}) ran past {timeout}s"
        return self._outcome(reply, child.out, child.err)

    @staticmethod
    def _outcome(reply: dict[str, Any], out: Path, err: Path) -> Outcome:
        outcome = Outcome(
            code=reply["code"],
            out=out.read_text(errors="replace"),
            err=err.read_text(errors="replace"),
            elapsed=reply["elapsed"],
            killed_by_us=reply["killed_by_us"],
        )
        out.unlink(missing_ok=True)
        err.unlink(missing_ok=True)
        return outcome

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        for path in self._scratch.iterdir():
            path.unlink()
        self._scratch.rmdir()


if __name__ == "__main__":
    main()
