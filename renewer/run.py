"""The shell of ``renewer run``: lock → token sinks → credentials → rotations → record.

One pass, each item independent of the others (product.md §1): a failure of
one item is its own result and never stops the rest; the exit code is the
worst outcome. The whole run has one deadline (``run.deadline``) that bounds
every retry; the lock wait is bounded too (exit 75). ``--dry-run`` takes the
same path, asks Vault only read-only questions, prints each plan, and writes,
mints or revokes nothing.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from renewer.config import Config, vault_token_from_env
from renewer.core.outcome import ItemResult, Outcome, exit_code
from renewer.files import sweep_temp_files
from renewer.lock import run_lock
from renewer.logging import get_logger
from renewer.state import RunRecord, item_key, record_run, write_textfile
from renewer.tokens.env import TokenEnv
from renewer.tokens.ledger import Ledger
from renewer.tokens.owner import installation_owner
from renewer.tokens.sink import process_sink
from renewer.vault import RetryPolicy, VaultConnection

_LEVEL = {
    Outcome.UNCHANGED: "info",
    Outcome.OK: "info",
    Outcome.HEALED: "info",
    Outcome.WARNING: "warning",
    Outcome.TEMPORARY: "error",
    Outcome.NEEDS_HUMAN: "error",
    Outcome.CONFIG: "error",
}


@dataclass
class Runtime:
    """Clocks, sleep and randomness: injected so tests never patch time."""

    monotonic: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)


def log_result(result: ItemResult) -> None:
    """One canonical log line per item per run."""
    log = get_logger()
    method = getattr(log, _LEVEL[result.outcome])
    method(
        result.event,
        item=result.name,
        kind=result.kind,
        outcome=result.outcome.name,
        summary=result.summary,
        **{key: value for key, value in result.details.items() if value is not None},
    )


def retry_policy(config: Config, runtime: Runtime) -> RetryPolicy:
    return RetryPolicy(
        deadline=runtime.monotonic() + config.run.deadline,
        clock=runtime.monotonic,
        sleep=runtime.sleep,
        rng=runtime.rng,
    )


@contextmanager
def token_env(
    config: Config, runtime: Runtime, *, dry_run: bool, retry: RetryPolicy | None = None
) -> Iterator[TokenEnv]:
    """Everything token commands need, with one Vault connection for the run.

    *retry* defaults to the run's policy (``run.deadline``); the CLI token
    helper passes a shorter one, because a login waits for it.
    """
    retry = retry or retry_policy(config, runtime)
    ledger = Ledger(config.state_dir)
    owner = installation_owner(config, persist=not dry_run)
    if ledger.warning:
        get_logger().warning("ledger.reset", summary=ledger.warning)
    with VaultConnection(
        config.vault, retry, pool_size=max(config.run.sweep_concurrency, 1)
    ) as conn:
        yield TokenEnv(
            config=config,
            connection=conn,
            ledger=ledger,
            owner=owner,
            dry_run=dry_run,
            vault_token_set=vault_token_from_env() is not None,
            wall_clock=runtime.wall_clock,
            time_left=retry.remaining,
        )


def _written_dirs(config: Config) -> set[Path]:
    """Every directory renewer writes secret files into."""
    section = config.credentials
    store = section.secrets.local.dir
    directories = {config.state_dir, store, section.secrets.local.key_file.parent}
    # the state dir's own subdirectories: rotation states, credential locks and hook markers
    directories.update(config.state_dir / name for name in ("rotation", "credentials"))
    if config.metrics_textfile is not None:
        directories.add(config.metrics_textfile.parent)
    directories.update(sink.path.parent for sink in config.tokens)
    directories.add(config.data_dir / "kept")  # tokens the CLI token helper set aside
    directories.update(sink.path.parent for spec in section.credentials for sink in spec.sinks)
    for rotation in config.rotations:
        directories.update(
            path.parent for path in (rotation.secret_id_file, rotation.role_id_file) if path
        )
    directories.update(  # a cert_dir's switch link is made beside `current`
        sink.path for spec in section.credentials for sink in spec.sinks if sink.type == "cert_dir"
    )
    if store.is_dir():  # <store>/<namespace>/<service>/
        directories.update(path for path in store.glob("*/*") if path.is_dir())
    return directories


def clean_leftovers(config: Config) -> None:
    """Remove temp files left by writers that died (a crash mid-write)."""
    for directory in sorted(_written_dirs(config)):
        for path in sweep_temp_files(directory):
            get_logger().info(
                "file.temp_removed", path=str(path), summary=f"removed leftover {path}"
            )


def run_once(
    config: Config,
    *,
    dry_run: bool = False,
    only: Collection[str] = (),
    runtime: Runtime | None = None,
    invocation: str = "",
) -> list[ItemResult]:
    """One pass over every configured item (or those in *only*); returns the results.

    *invocation* is systemd's ``$INVOCATION_ID`` when the unit runs it; it is
    recorded with the run (renewer.state.record_run).
    """
    runtime = runtime or Runtime()
    started = runtime.wall_clock()
    with run_lock(
        config.state_dir,
        timeout=config.run.lock_timeout,
        clock=runtime.monotonic,
        sleep=runtime.sleep,
    ):
        if not dry_run:
            clean_leftovers(config)
        results = _run_items(config, runtime, dry_run=dry_run, only=only)
        if not dry_run:
            finished = runtime.wall_clock()
            record = record_run(
                config.state_dir,
                results,
                started_at=started,
                finished_at=finished,
                exit_code=exit_code(results),
                invocation=invocation,
                configured=configured_items(config),
            )
            write_metrics(config, record, now=finished)
    return results


def configured_items(config: Config) -> set[str]:
    """The state-file keys of every item the config lists now."""
    keys = {item_key("token", sink.name) for sink in config.tokens}
    keys.update(item_key("credential", spec.name) for spec in config.credentials.credentials)
    keys.update(item_key("rotation", spec.name) for spec in config.rotations)
    return keys


def write_metrics(config: Config, record: RunRecord, *, now: float) -> None:
    """Write the Prometheus textfile, if configured.

    A failure is logged at error level, never fatal: the tokens are already
    renewed, and the textfile's stale timestamp shows the problem too.
    """
    path = config.metrics_textfile
    if path is None:
        return
    try:
        write_textfile(path, record, now=now)
    except OSError as exc:
        get_logger().error(
            "metrics.write_failed",
            path=str(path),
            summary=f"could not write the metrics textfile {path}: {exc.strerror or exc}",
        )


def _run_items(
    config: Config, runtime: Runtime, *, dry_run: bool, only: Collection[str]
) -> list[ItemResult]:
    """Step 2 (token sinks), step 4 (credentials), step 5 (due rotations), in that order.

    Tokens and rotations share one Vault connection and ledger. Each result is
    logged as soon as it exists, so a rotation's steps appear after the token
    results they build on.
    """
    sinks = [sink for sink in config.tokens if not only or sink.name in only]
    rotations = [spec for spec in config.rotations if not only or spec.name in only]
    results: list[ItemResult] = []
    with contextlib.ExitStack() as stack:
        env = (
            stack.enter_context(token_env(config, runtime, dry_run=dry_run))
            if sinks or rotations
            else None
        )
        for sink in sinks:
            assert env is not None
            results.append(process_sink(sink, env))
            log_result(results[-1])
        for result in _run_credentials(config, runtime, dry_run=dry_run, only=only):
            results.append(result)
            log_result(result)
        if rotations and env is not None:
            from renewer.rotation.runner import run_rotations

            results += run_rotations(
                config,
                env=env,
                now=runtime.wall_clock(),
                only=[spec.name for spec in rotations],
                on_result=log_result,
            )
    return results


def _run_credentials(
    config: Config, runtime: Runtime, *, dry_run: bool, only: Collection[str]
) -> list[ItemResult]:
    """Step 4: service credentials, after the tokens (a vault store uses the renewed token)."""
    if not config.credentials.credentials:
        return []
    from renewer.credentials.runner import run_credentials

    return run_credentials(
        config,
        only=set(only) or None,
        dry_run=dry_run,
        now=runtime.wall_clock,
        rng=runtime.rng,
        sleep=runtime.sleep,
    )


def summarize(results: list[ItemResult]) -> str:
    """The closing line of a run: counts by outcome and the exit code."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome.name.lower()] = counts.get(result.outcome.name.lower(), 0) + 1
    parts = (
        ", ".join(f"{count} {name}" for name, count in sorted(counts.items())) or "nothing to do"
    )
    return f"renewer run: {parts} (exit {exit_code(results)})"
