"""``renewer token-helper …``: the vault/bao CLI token helper (opt-in), and its own commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from renewer.app import AppContext, pass_app
from renewer.output import say

_SINK = click.option(
    "--sink",
    "sink_name",
    metavar="NAME",
    help="The token sink (default: the one at ~/.vault-token).",
)
_CLI = click.option(
    "--cli",
    "clis",
    multiple=True,
    type=click.Choice(["vault", "bao"]),
    help="Which CLI's config to edit (default: every one on PATH).",
)
MAX_STDIN = 64 * 1024  # a login's token is < 200 bytes; never read an unbounded stdin


@click.group("token-helper")
def token_helper_group() -> None:
    """Stop the clobber at the login: vault/bao store their logins through renewer.

    With the helper installed, `vault login` / `bao login` no longer overwrite
    the token file: renewer keeps (or mints, with the login's authority) the
    periodic token there, and sets the login's own token aside. CLI commands
    after a login then act as the periodic token (the audit log shows it).
    """


@token_helper_group.command("install")
@_SINK
@_CLI
@pass_app
def install_command(app: AppContext, sink_name: str | None, clis: tuple[str, ...]) -> int:
    """Write the helper script and set token_helper in ~/.vault / ~/.bao."""
    from renewer.errors import TokenHelperError
    from renewer.tokens.helper_install import choose_sink, clis_on_path, install

    config = app.config
    chosen = clis or clis_on_path(os.environ.get("PATH"))
    if not chosen:
        raise TokenHelperError(
            "neither vault nor bao is on PATH", hint="name the CLI: --cli vault or --cli bao"
        )
    for line in install(config, choose_sink(config, sink_name), chosen, environ=os.environ):
        say(line)
    say(
        "from now on a login keeps the periodic token in the file; CLI commands act as it "
        "(the audit log shows its display name). Undo: renewer token-helper uninstall"
    )
    return 0


@token_helper_group.command("uninstall")
@_CLI
def uninstall_command(clis: tuple[str, ...]) -> int:
    """Remove renewer's token_helper lines (and the script once unused).

    Works without a usable config (install.sh --uninstall runs it).
    """
    from renewer.tokens.helper_install import CLIS, data_and_home, uninstall

    data_dir, home = data_and_home(os.environ)
    for line in uninstall(data_dir, home, clis or CLIS, environ=os.environ):
        say(line)
    return 0


@token_helper_group.command("login-token")
@_SINK
@pass_app
def login_token_command(app: AppContext, sink_name: str | None) -> int:
    """Print the login token kept at the last healed login (for one-off use)."""
    import time

    from renewer.redact import print_secret
    from renewer.tokens import kept
    from renewer.tokens.helper_install import choose_sink
    from renewer.tokens.meanwhile import USE_LOGIN_ONCE

    config = app.config
    sink = choose_sink(config, sink_name)
    login = kept.read_kept(config, sink.name, kept.Kind.LOGIN)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(login.kept_at))
    say(
        f"renewer: the login token kept for {sink.name} at {when} ({login.path}); "
        f"use it once: {USE_LOGIN_ONCE}",
        err=True,
    )
    print_secret(login.token.reveal() + "\n")  # $(...) drops the newline
    return 0


@token_helper_group.command("restore")
@_SINK
@pass_app
def restore_command(app: AppContext, sink_name: str | None) -> int:
    """Put back the token the CLI's helper erased."""
    from renewer.tokens import kept
    from renewer.tokens.helper import LOCK_WAIT
    from renewer.tokens.helper_install import choose_sink

    config = app.config
    sink = choose_sink(config, sink_name)
    say(kept.restore(config, sink, wait=min(LOCK_WAIT, float(config.run.lock_timeout))))
    return 0


@token_helper_group.command("get")
@_SINK
@pass_app
def get_command(app: AppContext, sink_name: str | None) -> int:
    """The protocol's get: print the sink's token (the helper script does this faster)."""
    from renewer.errors import TokenFileError
    from renewer.redact import print_secret
    from renewer.tokens.helper_entry import read_token_bytes
    from renewer.tokens.helper_install import choose_sink

    token, problem = read_token_bytes(str(choose_sink(app.config, sink_name).path))
    if problem:
        raise TokenFileError(problem)
    print_secret(token.decode("ascii", "replace"))
    return 0


@token_helper_group.command("store")
@click.option("--sink", "sink_name", metavar="NAME", required=True)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where the token goes when the config cannot be used.",
)
@pass_app
def store_command(app: AppContext, sink_name: str, token_file: Path) -> int:
    """The protocol's store: the token a login hands over, on stdin. Never fails a login."""
    from renewer.core.secret import Secret
    from renewer.redact import register
    from renewer.run import Runtime
    from renewer.tokens.helper import announce, store

    app.setup_logging()
    value = sys.stdin.buffer.read(MAX_STDIN).decode("ascii", "replace").strip()
    register(value)
    line = store(
        Secret(value),
        load_config=lambda: app.config,
        sink_name=sink_name,
        token_file=token_file,
        environ=os.environ,
        runtime=Runtime(),
    )
    announce(line)
    return 0


@token_helper_group.command("erase")
@_SINK
@pass_app
def erase_command(app: AppContext, sink_name: str | None) -> int:
    """The protocol's erase: the CLI stops finding a token; renewer keeps it for restore."""
    from renewer.tokens import kept
    from renewer.tokens.helper import LOCK_WAIT, announce
    from renewer.tokens.helper_install import choose_sink

    config = app.config
    sink = choose_sink(config, sink_name)
    announce(kept.erase(config, sink, wait=min(LOCK_WAIT, float(config.run.lock_timeout))))
    return 0


COMMANDS = [token_helper_group]
