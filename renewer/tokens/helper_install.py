"""``renewer token-helper install`` / ``uninstall``: the helper script and the CLIs' config line.

Opt-in. ``install`` writes ``<data dir>/token-helper`` (0700), a script for
the venv's Python that names the sink, its token file and the config, so the
CLI's ``get`` reads one file without parsing any config; then it sets
``token_helper`` in the config file of each CLI on PATH (``~/.vault`` for
``vault``, ``~/.bao`` for ``bao``; ``$VAULT_CONFIG_PATH`` / ``$BAO_CONFIG_PATH``
as the CLIs read them), keeping every other line (``renewer.core.cliconfig``).
A helper someone else configured is never replaced: install stops and says so.
``uninstall`` removes only the line install added (or any line naming a
renewer helper script), and the script once no CLI names it.
"""

from __future__ import annotations

import ast
import contextlib
import shutil
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from renewer.config import Config, TokenSink, xdg_dir
from renewer.core.cliconfig import (
    UnrecognizedConfig,
    helper_path_problem,
    read_helper,
    with_helper,
    without_helper,
)
from renewer.errors import TokenHelperError
from renewer.files import ensure_private_dir, write_atomic

CLIS = ("vault", "bao")
SCRIPT_NAME = "token-helper"
SCRIPT_MARK = "# renewer token helper"
_SHEBANG_MAX = 120  # Linux reads 127+ bytes of a #! line only since 5.1; stay well below


@dataclass(frozen=True, slots=True)
class Baked:
    """What a helper script names: read back by ``check`` and ``store``."""

    sink: str
    token_file: str
    config: str


def script_path(data_dir: Path) -> Path:
    return data_dir / SCRIPT_NAME


def data_and_home(environ: Mapping[str, str]) -> tuple[Path, Path]:
    """renewer's data dir and HOME as the config would resolve them, without reading it.

    ``uninstall`` must work when the config is broken or gone (install.sh
    --uninstall runs it): the CLIs would otherwise name a helper that no
    longer runs, and every vault/bao command would fail.
    """
    home = Path(environ.get("HOME") or Path.home())
    return xdg_dir(environ, "XDG_DATA_HOME", ".local/share"), home


def cli_config_path(cli: str, environ: Mapping[str, str], home: Path) -> Path:
    """Where *cli* reads ``token_helper`` from, as the CLI itself resolves it."""
    if cli == "bao" and "BAO_CONFIG_PATH" in environ:  # OpenBao's ReadBaoVariable
        chosen = environ["BAO_CONFIG_PATH"]
    else:
        chosen = environ.get("VAULT_CONFIG_PATH", "")
    text = chosen or f"~/.{cli}"
    if text == "~" or text.startswith("~/"):
        return home / text[2:]
    return Path(text)


def script_text(python: str, baked: Baked) -> str:
    """The helper script: plain ``#!python -I``, or sh re-executing Python for odd paths."""
    if helper_path_problem(python) or len(python) > _SHEBANG_MAX:
        if any(char in python for char in '"$`\\\n'):
            raise TokenHelperError(
                f"cannot write a helper script for the interpreter {python!r}",
                hint="install renewer into a venv whose path has no quotes, $, ` or \\",
            )
        # sh reads the second line as `exec "<python>" -I "$0" "$@"`; Python reads a string.
        head = f"#!/bin/sh\n'''exec' \"{python}\" -I \"$0\" \"$@\"\n' '''\n"
    else:
        head = f"#!{python} -I\n"
    return (
        f"{head}{SCRIPT_MARK} for the vault/bao CLI, sink {baked.sink!r}.\n"
        "# Written by `renewer token-helper install`; `renewer token-helper uninstall` removes\n"
        "# it. `get` reads the token file below and nothing else; store/erase run renewer.\n"
        "import sys\n"
        "from renewer.tokens.helper_entry import main\n"
        f"BAKED = {{'sink': {baked.sink!r}, 'token_file': {baked.token_file!r}, "
        f"'config': {baked.config!r}}}\n"
        "sys.exit(main(sys.argv[1:], **BAKED))\n"
    )


def read_baked(path: Path) -> Baked | None:
    """The values a renewer helper script at *path* names; None when it is not one."""
    try:
        text = path.read_text(errors="replace")[:4096]
    except OSError:
        return None
    if SCRIPT_MARK not in text:
        return None
    for line in text.splitlines():
        if line.startswith("BAKED = "):
            with contextlib.suppress(ValueError, SyntaxError, TypeError):
                return Baked(**ast.literal_eval(line.removeprefix("BAKED = ")))
    return None


def choose_sink(config: Config, name: str | None) -> TokenSink:
    """``--sink NAME``; else the sink at the CLIs' ``~/.vault-token``; else the only sink."""
    if name:
        return config.token(name)
    default = config.home / ".vault-token"
    at_default = [sink for sink in config.tokens if sink.path == default]
    if at_default:
        return at_default[0]
    if len(config.tokens) == 1:
        return config.tokens[0]
    names = ", ".join(sink.name for sink in config.tokens) or "none configured"
    raise TokenHelperError(
        f"no token sink writes {default}, so which one should the CLI use? ({names})",
        hint="name it: renewer token-helper install --sink NAME",
    )


def clis_on_path(path: str | None) -> tuple[str, ...]:
    return tuple(cli for cli in CLIS if shutil.which(cli, path=path))


def install(
    config: Config, sink: TokenSink, clis: Iterable[str], *, environ: Mapping[str, str]
) -> list[str]:
    """Write the script, then point each CLI's config at it; the lines to print."""
    helper = script_path(config.data_dir)
    problem = helper_path_problem(str(helper))
    if problem:
        raise TokenHelperError(
            f"the helper would live at {helper}, which the CLI cannot run: {problem}",
            hint="set XDG_DATA_HOME (or HOME) to a path without spaces",
        )
    edits = [_planned_install(cli, environ, config.home, str(helper)) for cli in clis]
    baked = Baked(sink.name, str(sink.path), str(config.source.absolute()))
    ensure_private_dir(helper.parent)
    write_atomic(helper, script_text(sys.executable, baked).encode(), mode=0o700)
    lines = [f"wrote {helper} (the helper: sink {sink.name}, reads {sink.path})"]
    for cli, path, text in edits:
        _write_cli_config(path, with_helper(text, str(helper)))
        lines.append(f'{cli}: {path} now says token_helper = "{helper}"')
    return lines


def _planned_install(
    cli: str, environ: Mapping[str, str], home: Path, helper: str
) -> tuple[str, Path, str]:
    path = cli_config_path(cli, environ, home)
    text = _read_cli_config(path)
    current = read_helper(text).path
    if current not in {None, helper} and read_baked(Path(current or "")) is None:
        raise TokenHelperError(
            f'{path} already names another token helper ("{current}"); the {cli} CLI runs '
            "only one, and renewer will not replace yours",
            hint=f"remove that line from {path} if renewer should take over, then install again",
        )
    return cli, path, text


def uninstall(
    data_dir: Path, home: Path, clis: Iterable[str], *, environ: Mapping[str, str]
) -> list[str]:
    """Remove renewer's ``token_helper`` lines, then the script once nothing names it."""
    helper = script_path(data_dir)
    lines = []
    for cli in clis:
        path = cli_config_path(cli, environ, home)
        text = _read_cli_config(path)
        current = read_helper(text).path
        if current is None:
            lines.append(f"{cli}: {path} names no token helper; nothing to remove")
        elif current != str(helper) and read_baked(Path(current)) is None:
            lines.append(f'{cli}: {path} names another helper ("{current}"); left as it is')
        else:
            _write_cli_config(path, without_helper(text))
            lines.append(f"{cli}: removed token_helper from {path}; {cli} writes ~/.vault-token")
    if not installed_for(data_dir, home, environ) and helper.exists():
        helper.unlink()
        lines.append(f"removed {helper}")
    return lines


def _read_cli_config(path: Path) -> str:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenHelperError(f"cannot read {path}: {exc}") from None
    try:
        read_helper(text)
    except UnrecognizedConfig as exc:
        raise TokenHelperError(
            f"{path}:{exc.line}: {exc.reason}; renewer edits only token_helper lines and "
            "comments (is it JSON, or an Ansible Vault file? both also live at ~/.vault)",
            hint=f'add token_helper = "<helper>" to {path} by hand, or point '
            "VAULT_CONFIG_PATH / BAO_CONFIG_PATH at another file",
        ) from None
    return text


def _write_cli_config(path: Path, text: str) -> None:
    """Write *text*, or remove the file when nothing is left; through a symlink's target."""
    target = path.resolve() if path.is_symlink() else path
    if not text.strip():
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        return
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    write_atomic(target, text.encode(), mode=mode)


def installed_for(data_dir: Path, home: Path, environ: Mapping[str, str]) -> dict[str, Path]:
    """CLI → config file, for the CLIs whose config names this install's helper."""
    helper = str(script_path(data_dir))
    found = {}
    for cli in CLIS:
        path = cli_config_path(cli, environ, home)
        with contextlib.suppress(TokenHelperError, UnrecognizedConfig):
            if read_helper(_read_cli_config(path)).path == helper:
                found[cli] = path
    return found
