"""One shell session for the blocks of a runbook section, as a person types them.

A person pastes a section's blocks into one terminal, so a variable a block
sets (``ACCESSOR=$(…)``) is there for the next block. Each block still runs
in its own ``sh -e`` (so each has its own exit status, and a block that is
expected to fail does not end the session): every variable is exported while
a block runs (``set -a``), and on exit ``export -p`` writes them to a file
the next block sources first.

The runner is a callable, so the same session works for a plain subprocess
and for a command run as another user in another mount namespace
(tests/usermanager/).
"""

from __future__ import annotations

import shlex
import subprocess
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from tests import leakguard
from tests.runbooks.extract import Block, blocks

Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


class ShellSession:
    """Blocks run one after another, sharing their variables through *variables*."""

    def __init__(self, runner: Runner, variables: Path) -> None:
        self.runner = runner
        self.variables = variables

    def script(self, block: str) -> str:
        path = shlex.quote(str(self.variables))
        return f"set -a\n[ -f {path} ] && . {path}\ntrap 'export -p >{path}' EXIT\n{block}"

    def run(self, block: str) -> subprocess.CompletedProcess[str]:
        return self.runner(["sh", "-e", "-c", self.script(block)])


def local_runner(
    env: dict[str, str], cwd: Path, *, timeout: float = 120, stdin: str | None = None
) -> Runner:
    """Run argv here, with exactly *env*, from *cwd*."""

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def run_blocks(blocks: list[Block], session: ShellSession) -> str:
    """Run *blocks* in *session* in order; each must exit as it expects and print no
    secret. Their stdout, joined, for the caller's check of what they showed."""
    output = ""
    for block in blocks:
        completed = session.run(block.text)
        leakguard.scan(f"{block.where} stdout", completed.stdout)
        leakguard.scan(f"{block.where} stderr", completed.stderr)
        assert completed.returncode == block.expect_exit, (
            f"{block.where} exited {completed.returncode}, expected {block.expect_exit}\n"
            f"--- block\n{block.text}--- stdout\n{completed.stdout}--- stderr\n{completed.stderr}"
        )
        output += completed.stdout
    return output


def harness_blocks(runbook: Path, harness: str) -> dict[str, list[Block]]:
    """The ``sh <harness>`` blocks of *runbook* by scenario, each list in document order."""
    groups: dict[str, list[Block]] = defaultdict(list)
    for block in blocks(runbook):
        if block.language == "sh" and block.harness == harness:
            groups[block.scenario or ""].append(block)
    return dict(groups)
