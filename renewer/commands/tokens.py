"""``renewer run``, ``mint``, ``sweep`` and ``check``: the token commands."""

from __future__ import annotations

import os
from pathlib import Path

import click

from renewer.app import AppContext, pass_app
from renewer.output import say


def _known_names(app: AppContext) -> set[str]:
    config = app.config
    names = {sink.name for sink in config.tokens}
    names.update(rotation.name for rotation in config.rotations)
    names.update(spec.name for spec in config.credentials.credentials)
    return names - {""}


@click.command("run")
@click.option(
    "--dry-run", is_flag=True, help="Print what would happen; write, mint and revoke nothing."
)
@click.option("--only", "only", multiple=True, metavar="NAME", help="Limit the run to these items.")
@pass_app
def run_command(app: AppContext, dry_run: bool, only: tuple[str, ...]) -> int:
    """One pass: renew or heal token sinks, refresh credentials, run due rotations.

    Exit 0 when every item is fine (a heal is fine), 1 when one needs a
    human, 75 when Vault or a service was unreachable, 78 on a bad config.
    """
    from renewer.core.outcome import exit_code
    from renewer.logging import get_logger
    from renewer.run import run_once, summarize

    app.setup_logging()
    unknown = sorted(set(only) - _known_names(app))
    if unknown:
        raise click.UsageError(f"--only names nothing configured: {', '.join(unknown)}")
    environ = os.environ if app.environ is None else app.environ
    results = run_once(
        app.config, dry_run=dry_run, only=only, invocation=environ.get("INVOCATION_ID", "")
    )
    get_logger().info("run.finished", summary=summarize(results), dry_run=dry_run)
    return exit_code(results)


@click.command("mint")
@click.argument("name")
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the authority token from this file instead of $VAULT_TOKEN.",
)
@pass_app
def mint_command(app: AppContext, name: str, from_file: Path | None) -> int:
    """Recovery: mint NAME's periodic token and write it to its file.

    The mint uses the authority of --from-file, else $VAULT_TOKEN, else the
    token currently in NAME's file (what `vault login -method=oidc` just
    wrote there). The new token is checked, written atomically, and stale
    tokens of ours are swept. Vault decides whether the authority may mint.
    """
    from renewer.config import vault_token_from_env
    from renewer.core.outcome import exit_code
    from renewer.core.secret import Secret
    from renewer.lock import run_lock
    from renewer.logging import get_logger
    from renewer.run import Runtime, log_result, token_env, write_metrics
    from renewer.state import record_items
    from renewer.tokens.heal import mint_now
    from renewer.tokens.results import recovery_command
    from renewer.tokens.sink import shown
    from renewer.tokens.tokenfile import read_token

    app.setup_logging()
    config = app.config
    sink = config.token(name)
    in_env = vault_token_from_env(app.environ)
    recovery = recovery_command(sink, home=config.home, vault_token_set=in_env is not None)
    if from_file is not None:
        token_file = read_token(from_file, sink=name, recovery=recovery)
        authority, source = token_file.token, f"--from-file {from_file}"
    elif in_env is not None:
        authority, source = Secret(in_env), "$VAULT_TOKEN"
    else:
        token_file = read_token(sink.path, sink=name, recovery=recovery)
        authority, source = token_file.token, shown(sink.path, config.home)
    get_logger().info(
        "mint.authority", item=name, summary=f"minting {name} with the token from {source}"
    )
    runtime = Runtime()
    with (
        run_lock(config.state_dir, timeout=config.run.lock_timeout),
        token_env(config, runtime, dry_run=False) as env,
    ):
        result = mint_now(sink, env, authority, source=source)
        # status must show the recovery, not the failure it repaired.
        now = runtime.wall_clock()
        record = record_items(
            config.state_dir,
            [result],
            at=now,
            command=f"renewer mint {name}",
            exit_code=exit_code([result]),
        )
        write_metrics(config, record, now=now)
    log_result(result)
    return exit_code([result])


@click.command("sweep")
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="List what would be revoked; revoke nothing.")
@click.option("--full", is_flag=True, help="Also scan every accessor in Vault (needs list + sudo).")
@pass_app
def sweep_command(app: AppContext, name: str, dry_run: bool, full: bool) -> int:
    """Revoke stale tokens of NAME, keeping the one in its file.

    Without --full only the accessors renewer recorded are confirmed and
    revoked; --full also looks up every token in Vault (the seed's scan).
    """
    from renewer.core.outcome import exit_code
    from renewer.lock import run_lock
    from renewer.run import Runtime, log_result, token_env
    from renewer.tokens.sink import sweep_now

    app.setup_logging()
    config = app.config
    sink = config.token(name)
    with (
        run_lock(config.state_dir, timeout=config.run.lock_timeout),
        token_env(config, Runtime(), dry_run=dry_run) as env,
    ):
        result = sweep_now(sink, env, full=full)
    log_result(result)
    return exit_code([result])


@click.command("check")
@pass_app
def check_command(app: AppContext) -> int:
    """Validate the config, recipes, file modes and reachability; change nothing.

    Prints one line per check. Exit 0 when all pass, 1 when something needs
    a person, 75 when Vault is unreachable, 78 when the config is invalid.
    """
    from renewer.check import run_checks

    findings = run_checks(app.config)
    for finding in findings:
        say(finding.line())
    return max((finding.exit_code for finding in findings), default=0)


COMMANDS = [run_command, mint_command, sweep_command, check_command]
