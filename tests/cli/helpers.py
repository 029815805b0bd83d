"""Run the real CLI entry point (exit-code mapping included) with click's CliRunner isolation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from click.testing import CliRunner

from renewer.cli import run_cli
from tests import leakguard


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str


def invoke(
    args: Sequence[str], *, input: str | None = None, env: Mapping[str, str] | None = None
) -> Ran:
    """``renewer ARGS`` in-process; both streams go through the leak guard."""
    with CliRunner().isolation(input=input, env=env) as (stdout, stderr, _):
        code = run_cli(list(args))
    ran = Ran(code, stdout.getvalue().decode(), stderr.getvalue().decode())
    leakguard.scan("cli stdout", ran.stdout)
    leakguard.scan("cli stderr", ran.stderr)
    return ran
