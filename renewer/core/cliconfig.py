"""The ``token_helper`` line of the vault/bao CLI's config file (``~/.vault``, ``~/.bao``).

Pure. Both CLIs read one key from that file, ``token_helper = "/abs/path"``
(HCL; any other key is an error for them: ``CheckHCLKeys`` with the single
valid key ``token_helper``). ``renewer token-helper install`` adds that line
and ``uninstall`` removes it, keeping every other line byte for byte.

Rules:

1. Only lines this module understands are touched: blank lines, ``#`` and
   ``//`` comments, and ``token_helper = "…"``. Any other line (JSON, a block
   comment, an Ansible Vault password file, which the vault CLI's own error
   message warns also lives at ``~/.vault``) makes the file *unrecognised*:
   renewer refuses to edit it and names the line, rather than guess.
2. The line renewer adds is preceded by :data:`MARKER`, so ``uninstall``
   removes exactly what ``install`` added and a reader of the file knows
   where it came from.
3. The helper's path must survive the CLIs' invocation, which is
   ``$SHELL -c "<path> <op>"`` after an ``os.Stat`` of the raw path: a path
   with a space or a shell metacharacter cannot be quoted for both, so it is
   refused (:func:`helper_path_problem`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = "# added by `renewer token-helper install`; `renewer token-helper uninstall` removes it"

_HELPER_LINE = re.compile(r'^\s*token_helper\s*=\s*"(?P<path>[^"\\]*)"\s*(?:(?:#|//).*)?$')
_IGNORED_LINE = re.compile(r"^\s*(?:(?:#|//).*)?$")
_SHELL_SAFE = re.compile(r"^[A-Za-z0-9_./@%+=:,-]+$")


class UnrecognizedConfig(ValueError):
    """A line renewer will not edit around; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class HelperSetting:
    """What a CLI config file says about its token helper."""

    path: str | None = None  # the configured token_helper; None: the CLI's internal helper
    line: int = 0  # 1-based line of the setting (0: none)


def read_helper(text: str) -> HelperSetting:
    """The ``token_helper`` setting of *text*; :class:`UnrecognizedConfig` for any other key."""
    found = HelperSetting()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HELPER_LINE.match(line)
        if match:
            if found.path is not None:
                raise UnrecognizedConfig(number, "token_helper is set twice")
            found = HelperSetting(match["path"], number)
        elif not _IGNORED_LINE.match(line):
            raise UnrecognizedConfig(number, "not a token_helper setting or a comment")
    return found


def with_helper(text: str, path: str) -> str:
    """*text* with ``token_helper`` set to *path*: the setting replaced, or appended."""
    setting = read_helper(text)
    line = f'token_helper = "{path}"'
    if setting.path is not None:
        lines = text.splitlines(keepends=True)
        ending = "\n" if lines[setting.line - 1].endswith("\n") else ""
        lines[setting.line - 1] = line + ending
        return "".join(lines)
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}{MARKER}\n{line}\n"


def without_helper(text: str) -> str:
    """*text* without its ``token_helper`` line (and renewer's marker right above it)."""
    setting = read_helper(text)
    if setting.path is None:
        return text
    lines = text.splitlines(keepends=True)
    drop = {setting.line - 1}
    above = setting.line - 2
    if above >= 0 and lines[above].rstrip("\r\n") == MARKER:
        drop.add(above)
    return "".join(line for index, line in enumerate(lines) if index not in drop)


def helper_path_problem(path: str) -> str:
    """Why the CLIs could not run *path* as their token helper ("" when they can)."""
    if not path.startswith("/"):
        return "it is not an absolute path"
    if not _SHELL_SAFE.match(path):
        return (
            "it holds a space or a shell character; the CLI runs it as `$SHELL -c "
            '"<path> get"` and cannot quote it'
        )
    return ""
