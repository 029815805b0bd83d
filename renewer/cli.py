"""Command line: parse, call, map ``RenewerError`` to an exit code. Nothing else.

Each command group lives in ``renewer/commands/``; this module only assembles
them, so ``renewer --help`` imports click and a few small modules, never hvac
or requests (issue #9: help must stay fast).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from renewer import __version__
from renewer.app import AppContext
from renewer.commands import register_all
from renewer.errors import EXIT_NEEDS_HUMAN, RenewerError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file. Default: $RENEWER_CONFIG, then ~/.config/renewer/config.yaml.",
)
@click.option(
    "--log-format",
    type=click.Choice(["console", "json", "journal"]),
    default=None,
    help="Default: journal under systemd, console on a terminal, json otherwise.",
)
@click.option("-v", "--verbose", "verbosity", count=True, help="More detail (-vv: debug).")
@click.version_option(__version__, prog_name="renewer")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, log_format: str | None, verbosity: int
) -> None:
    """Keep this machine's credentials alive: Vault tokens, then service credentials.

    Exit codes: 0 ok (a heal is ok), 1 needs a human, 2 usage,
    75 temporary (try again later), 78 configuration or recipe invalid.
    """
    ctx.obj = AppContext(config_path=config_path, log_format=log_format, verbosity=verbosity)


register_all(cli)


def report_error(error: RenewerError) -> None:
    """Print *error* the way every runbook expects: error, hint, see."""
    from renewer.output import say
    from renewer.redact import scrub

    lines = [f"error: {error.message}"]
    if error.hint:
        lines.append(f"hint: {error.hint}")
    lines.append(f"see: {error.see}")
    say(scrub("\n".join(lines)), err=True)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: no core dumps from here on, then the CLI."""
    from renewer.hardening import forbid_core_dumps

    forbid_core_dumps()  # before any secret is read; a refused call leaves the other
    sys.exit(run_cli(argv))


def run_cli(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code instead of exiting (tests, demo).

    Everything the command writes to stdout and stderr passes the secret
    scrubber (:class:`renewer.redact.ScrubbingText`), whoever wrote it.
    """
    from renewer.redact import ScrubbingText

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ScrubbingText(saved[0]), ScrubbingText(saved[1])
    try:
        return _run(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to add
                stream.flush()
        sys.stdout, sys.stderr = saved


def _run(argv: list[str] | None) -> int:
    try:
        result = cli.main(args=argv, prog_name="renewer", standalone_mode=False)
    except RenewerError as error:
        report_error(error)
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_NEEDS_HUMAN
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Exit as done:
        return done.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as error:  # the last line of defence: no traceback for users
        return _report_unexpected(error)
    return result if isinstance(result, int) else 0


def _report_unexpected(error: Exception) -> int:
    """Unexpected means a bug: say so without dumping a message that might hold a secret."""
    import traceback

    from renewer.output import say
    from renewer.redact import scrub

    click.echo(
        f"error: internal error ({type(error).__name__}); this is a bug in renewer.\n"
        "hint: run again with -vv to see the traceback, and report it.",
        err=True,
    )
    if "-vv" in sys.argv or "--verbose" in sys.argv:
        say(scrub("".join(traceback.format_exception(error))), err=True)
    return EXIT_NEEDS_HUMAN
