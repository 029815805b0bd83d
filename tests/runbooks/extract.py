"""Read runbooks as the tests need them: shell blocks with their markers, headings, commands.

A runbook's executable contract is its ``sh`` fenced blocks. Each one must
sit directly under HTML comments that say in which situation it runs, and
may say which exit status it expects when failing is the point::

    <!-- scenario: drift -->
    <!-- expect: exit 1 -->
    ```sh
    renewer status
    ```

A word after ``sh`` in the fence (its info string) names the harness a block
needs beyond the ordinary one: ``sh systemd`` blocks (``systemctl --user``,
``journalctl --user``) run under a real user manager in tests/usermanager/,
``sh aws`` blocks with the AWS CLI against moto and ``sh mtls`` blocks with an
mtls credential, Vault PKI and a TLS peer (tests/credentials/); the ordinary
runbook tests leave them to those (:data:`HARNESSES`).

Other shells' fences (``bash``, ``shell``, ``console``...) are refused: they
would look like commands to a reader and escape the tests. ``text`` blocks
hold what is not typed (log lines, messages, config snippets), and
:func:`typed_command` tells when one holds a command after all.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)((?:[ \t]+[\w+-]+)*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*(scenario|expect):\s*(.*?)\s*-->\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
SHELL_LIKE = frozenset({"bash", "shell", "console", "zsh", "shell-session", "sh-session"})
# The harnesses an ``sh`` block's info string may name, and where each one runs.
HARNESSES = {
    "systemd": "tests/usermanager/test_runbook_units.py",
    "aws": "tests/credentials/test_runbook_aws.py",  # the AWS CLI against moto
    "mtls": "tests/credentials/test_runbook_mtls.py",  # Vault PKI, a TLS peer, openssl
    "google": "tests/credentials/test_runbook_google.py",  # a JWT-bearer token endpoint
}
# Programs a runbook tells a person to run. A ``text`` block whose first line
# starts with one of them is a command that no test would run.
COMMAND_NAMES = frozenset(
    {
        "renewer", "vault", "bao", "systemctl", "journalctl", "loginctl", "aws", "grep",
        "jq", "openssl", "readlink", "ssh", "curl", "cat", "ls", "cp", "mv", "rm", "chmod",
        "chown", "mkdir", "ln", "install", "export", "unset", "echo", "sed", "awk", "find",
        "sh", "bash", "sudo", "python", "python3", "pip", "git", "kill", "env", "test",
    }
)  # fmt: skip
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Block:
    """One fenced block and the markers right above it."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    scenario: str | None
    expect_exit: int
    marker_errors: tuple[str, ...] = ()
    harness: str = ""  # the info string's word after the language (``sh systemd``)

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def _markers(lines: list[str], fence_index: int) -> tuple[str | None, int, list[str]]:
    """The scenario and expected exit status from the comment lines directly above."""
    scenario: str | None = None
    expect = 0
    errors: list[str] = []
    index = fence_index - 1
    while index >= 0 and (match := MARKER.match(lines[index])):
        kind, value = match.groups()
        if kind == "scenario":
            scenario = value
        else:
            found = re.fullmatch(r"exit (\d+)", value)
            if found is None:
                errors.append(f"expect marker must read 'exit N', got {value!r}")
            else:
                expect = int(found.group(1))
        index -= 1
    return scenario, expect, errors


def blocks(path: Path) -> list[Block]:
    """Every fenced block of *path*, in document order."""
    lines = path.read_text().splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, language, info = opening.groups()
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not re.match(rf"^{indent}```\s*$", lines[end]):
            body.append(lines[end][len(indent) :])
            end += 1
        scenario, expect, errors = _markers(lines, index)
        found.append(
            Block(
                path,
                index + 1,
                language,
                "\n".join(body) + "\n",
                scenario,
                expect,
                tuple(errors),
                info.strip(),
            )
        )
        index = end + 1
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of *path*'s headings (outside fenced blocks)."""
    found: set[str] = set()
    in_fence = False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence and (match := HEADING.match(line)):
            found.add(slug(match.group(2)))
    return found


def renewer_commands(text: str) -> list[list[str]]:
    """Each ``renewer …`` invocation in *text*, as argv after ``renewer``.

    A line is split into simple commands at ``&&``, ``||``, ``;`` and ``|``;
    comments are dropped. ``renewer.timer`` and paths are not invocations.
    """
    commands: list[list[str]] = []
    for line in text.replace("\\\n", " ").splitlines():  # join continued lines first
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        try:
            tokens = [*lexer, ";"]
        except ValueError:  # prose with an apostrophe, not a shell line
            tokens = [*line.split(), ";"]
        for token in tokens:
            if token and set(token) <= set(";&|"):
                if current and current[0] == "renewer":
                    commands.append(current[1:])
                current = []
            else:
                current.append(token)
    return commands


def inline_code(path: Path) -> list[str]:
    """Inline code spans outside fenced blocks (prose mentions of commands)."""
    spans: list[str] = []
    in_fence = False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            spans.extend(INLINE_CODE.findall(line))
    return spans


def typed_command(text: str) -> str | None:
    """The program *text*'s first line runs, when it reads as a shell command; else None.

    Leading ``VAR=value`` assignments and a ``$ `` prompt are skipped, so
    ``RENEWER_CREDENTIAL=x systemctl …`` is ``systemctl``; a line of
    assignments alone (``NAME=notion-prod``) defines variables and runs nothing.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    words = lines[0].removeprefix("$ ").split()
    while words and ASSIGNMENT.match(words[0]):
        words.pop(0)
    if words and words[0] in COMMAND_NAMES:
        return words[0]
    return None
