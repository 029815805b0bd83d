"""Every command in runbooks/*.md runs, every anchor an error points at resolves.

* Each ``sh`` block runs with ``sh -e`` in the scenario its comment names
  (tests/runbooks/scenarios.py), against the dev server (or a real Vault);
  the blocks of one scenario share one world and run in document order, as a
  person reading down the page would. A block must exit 0 unless it carries
  ``<!-- expect: exit N -->``. ``vault`` is the real ``bao`` CLI (on the dev
  server, ``vault login -method=oidc`` is a stand-in; see scenarios.py);
  ``renewer`` is the real CLI. ``sh systemd`` blocks are left to the real user
  manager (tests/usermanager/test_runbook_units.py).
* A ``text`` block never holds a command: whatever a person is told to type
  sits in a block some test runs.
* Every ``renewer …`` command a runbook or docs/*.md mentions (in a block or
  in prose) must parse: no unknown sub-command, no unknown option.
* Every ``runbook``/``reference`` of an error class in renewer/errors.py is a
  heading of an existing runbook; runbooks that a later issue writes are
  skipped until they exist, then checked automatically.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from collections import defaultdict
from pathlib import Path

import click
import pytest

from renewer import errors
from renewer.cli import cli
from tests import leakguard
from tests.integration.conftest import World
from tests.runbooks.extract import (
    HARNESSES,
    SHELL_LIKE,
    Block,
    anchors,
    blocks,
    inline_code,
    renewer_commands,
    typed_command,
)
from tests.runbooks.scenarios import SCENARIOS, prepare_shell

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = sorted((ROOT / "runbooks").glob("*.md"))
DOCS = sorted((ROOT / "docs").glob("*.md"))
# Runbooks whose blocks need peers this harness does not start run in their own
# harness (next to the peers); every other runbook's blocks run here.
RUN_ELSEWHERE = {
    "credentials.md": "tests/cli/test_runbook_credentials.py (OAuth2 and API peers)",
    "rotation.md": "tests/integration/test_rotation_runbook.py (rotation scenarios)",
}
SCENARIO_RUNBOOKS = [path for path in RUNBOOKS if path.name not in RUN_ELSEWHERE]
# Commands a runbook still shows as ```text, by (runbook, first line), and why no test
# runs them yet. The list only shrinks: test_no_text_block_holds_a_command refuses any
# other text block that starts with a command, and an entry that no longer matches.
STILL_TEXT = {
    ("credentials.md", 'renewer auth login "$NAME" --port 8765        # on the devvm'):
        "a fixed port (tests bind port 0 only), and its second line runs on the laptop",
    ("credentials.md", 'renewer creds set "$NAME" --stdin <<\'EOF\''):
        "its values are the new key a person pastes (AKIA..., ...), so it cannot run as"
        " written; tests/cli/test_creds_new_kinds.py stores an AWS key the same way",
}  # fmt: skip


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def shell_blocks(paths: list[Path], *, harness: str = "") -> list[Block]:
    """The ``sh`` blocks of *paths* for *harness* ("": the ordinary one, this module's)."""
    return [
        block
        for path in paths
        for block in blocks(path)
        if block.language == "sh" and block.harness == harness
    ]


def every_shell_block(paths: list[Path]) -> list[Block]:
    return [block for path in paths for block in blocks(path) if block.language == "sh"]


def grouped() -> dict[tuple[str, str], list[Block]]:
    """Blocks by (runbook, scenario), each group in document order."""
    groups: dict[tuple[str, str], list[Block]] = defaultdict(list)
    for block in shell_blocks(SCENARIO_RUNBOOKS):
        groups[(block.path.name, block.scenario or "")].append(block)
    return dict(groups)


GROUPS = grouped()


class TestRunbookShape:
    def test_every_shell_block_names_a_known_scenario(self) -> None:
        problems = [
            f"{block.where}: no <!-- scenario: NAME --> comment directly above"
            if block.scenario is None
            else f"{block.where}: unknown scenario {block.scenario!r}"
            for block in shell_blocks(SCENARIO_RUNBOOKS)
            if block.scenario not in SCENARIOS
        ]
        problems += [
            f"{block.where}: {error}"
            for block in shell_blocks(SCENARIO_RUNBOOKS)
            for error in block.marker_errors
        ]
        assert problems == []

    def test_runbooks_run_elsewhere_have_their_harness(self) -> None:
        """A runbook excluded here is run by the harness named for it."""
        for name, harness in RUN_ELSEWHERE.items():
            assert (ROOT / "runbooks" / name).exists(), name
            assert (ROOT / harness.split(" ")[0]).exists(), harness

    def test_commands_are_in_sh_blocks_not_other_shells(self) -> None:
        """A ```bash block would read as a command and never run in a test."""
        other = [
            block.where
            for path in RUNBOOKS
            for block in blocks(path)
            if block.language in SHELL_LIKE
        ]
        assert other == []

    def test_the_token_runbook_has_its_blocks(self) -> None:
        assert len(shell_blocks([ROOT / "runbooks" / "token-renewer.md"])) >= 8

    def test_an_sh_block_names_only_a_harness_that_exists(self) -> None:
        """`sh systmed` would escape every test: an unknown word is refused."""
        unknown = [
            f"{block.where}: sh {block.harness}"
            for block in every_shell_block(RUNBOOKS)
            if block.harness and block.harness not in HARNESSES
        ]
        assert unknown == []
        for harness in HARNESSES.values():
            assert (ROOT / harness).exists(), harness

    def test_no_text_block_holds_a_command(self) -> None:
        """A command in a ```text block is one no test runs: make it an ``sh`` block.

        The few still written as text are listed in STILL_TEXT with the reason;
        an entry whose block changed or became ``sh`` must leave the list.
        """
        found = {
            (block.path.name, first_line(block.text)): block.where
            for path in RUNBOOKS
            for block in blocks(path)
            if block.language != "sh" and typed_command(block.text) is not None
        }
        untested = [f"{where}: {key[1]}" for key, where in found.items() if key not in STILL_TEXT]
        stale = [f"{name}: {line}" for name, line in STILL_TEXT if (name, line) not in found]
        assert untested == [], "a command in a text block: make it sh, with its scenario"
        assert stale == [], "no longer a text block: remove it from STILL_TEXT"


@pytest.mark.parametrize(
    "key", sorted(GROUPS), ids=[f"{name}::{scenario}" for name, scenario in sorted(GROUPS)]
)
def test_runbook_blocks_run_in_their_scenario(
    key: tuple[str, str], world: World, tmp_path: Path
) -> None:
    """Prepare the scenario once, then run its blocks top to bottom with sh -e."""
    _name, scenario = key
    if scenario not in SCENARIOS:
        pytest.fail(f"blocks without a known scenario: {[b.where for b in GROUPS[key]]}")
    SCENARIOS[scenario](world)
    env = prepare_shell(world, tmp_path / "bin")
    for block in GROUPS[key]:
        completed = subprocess.run(
            ["sh", "-e", "-c", block.text],
            cwd=world.home,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if world.sink.exists():  # a token the vault stand-in wrote is a secret too
            leakguard.remember(world.sink.read_text().strip())
        leakguard.scan(f"{block.where} stdout", completed.stdout)
        leakguard.scan(f"{block.where} stderr", completed.stderr)
        assert completed.returncode == block.expect_exit, (
            f"{block.where} exited {completed.returncode}, expected {block.expect_exit}\n"
            f"--- block\n{block.text}--- stdout\n{completed.stdout}"
            f"--- stderr\n{completed.stderr}"
        )


def parse_error(argv: list[str]) -> str | None:
    """None when `renewer ARGV` parses (sub-command and options known), else why not."""
    try:
        context = cli.make_context("renewer", list(argv))
        with warnings.catch_warnings():  # protected_args: deprecated in click 8.2, still set
            warnings.simplefilter("ignore", DeprecationWarning)
            rest = [*getattr(context, "protected_args", []), *context.args]
        if not rest:
            return None
        name, command, arguments = cli.resolve_command(context, rest)
        assert command is not None
        command.make_context(name or "", arguments, parent=context)
    except click.exceptions.Exit:  # --help, --version
        return None
    except click.MissingParameter:  # prose names a command: `renewer mint` (NAME implied)
        return None
    except click.UsageError as error:
        return error.format_message()
    return None


def mentioned_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) of every renewer invocation in the runbooks and docs/*.md.

    Runbooks: sh blocks and prose. Docs: every fenced block (they show commands
    as text, not as tested sh) and prose.
    """
    found: list[tuple[str, list[str]]] = []
    fenced = every_shell_block(RUNBOOKS) + [block for path in DOCS for block in blocks(path)]
    for block in fenced:
        found += [(block.where, argv) for argv in renewer_commands(block.text)]
    for path in RUNBOOKS + DOCS:
        for span in inline_code(path):  # a bare `renewer` names the program
            found += [(path.name, argv) for argv in renewer_commands(span) if argv]
    return found


class TestCommandsParse:
    def test_every_mentioned_renewer_command_parses(self) -> None:
        commands = mentioned_commands()
        assert len(commands) > 20
        failures = [
            f"{where}: renewer {' '.join(argv)}: {why}"
            for where, argv in commands
            if (why := parse_error(argv)) is not None
        ]
        assert failures == []

    @pytest.mark.parametrize(
        "argv",
        [["bogus"], ["run", "--no-such-option"], ["mint", "devvm", "extra"]],
        ids=["command", "option", "argument"],
    )
    def test_the_parse_check_catches_mistakes(self, argv: list[str]) -> None:
        assert parse_error(argv) is not None


def error_classes() -> list[type[errors.RenewerError]]:
    found: list[type[errors.RenewerError]] = []
    pending: list[type[errors.RenewerError]] = [errors.RenewerError]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(current.__subclasses__())
    return sorted(set(found), key=lambda cls: cls.__name__)


@pytest.mark.parametrize("error", error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_points_at_a_runbook_heading(error: type[errors.RenewerError]) -> None:
    """`see: runbooks/<file>#<anchor>` must land on a heading."""
    path = ROOT / "runbooks" / error.runbook
    if not path.exists():
        pytest.skip(f"runbooks/{error.runbook} does not exist yet (a later issue writes it)")
    assert error.reference in anchors(path), f"no heading #{error.reference} in {path.name}"
    assert error("x").see == f"runbooks/{error.runbook}#{error.reference}"


@pytest.mark.parametrize("path", RUNBOOKS, ids=lambda path: path.name)
def test_links_inside_a_runbook_resolve(path: Path) -> None:
    text = path.read_text()
    targets = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert targets <= anchors(path)
