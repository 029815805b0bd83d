"""The CLI token helper's ``store``: the clobber stopped at the login (``erase``: ``kept.py``).

With ``token_helper`` set in ``~/.vault`` / ``~/.bao``, ``vault login`` and
``bao login`` hand their token to ``store`` instead of writing
``~/.vault-token``. ``store`` takes the run lock, asks Vault about the token,
and follows :func:`renewer.core.helper.plan_store`: store a token of ours,
keep the sink's healthy token of ours, or heal now with the login's authority
(:func:`renewer.tokens.heal.heal`, the same code as ``renewer run``). The
login's own token is kept apart (``kept.py``), never lost.

**A login never fails because of us.** Whatever goes wrong (config unusable,
another Vault, the lock busy, Vault unreachable, the deadline passed, the
mint denied, a bug), the token is stored as given, which is exactly what the
CLI did before the helper existed, and the exit is 0. Only a failure to
write the file at all exits non-zero: the CLI then prints the token and says
it was not persisted, as it does for its own helper.

**One line for the person.** The CLIs capture a helper's output with
``CombinedOutput`` and show it only when the helper fails, so on success our
stderr is discarded. The line therefore also goes to ``/dev/tty`` when
stderr is not a terminal: the person who typed ``vault login`` sees what
happened to their token. It names no secret.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from renewer.config import Config, TokenSink
from renewer.core.drift import Verdict, check_drift
from renewer.core.heal import plan_heal
from renewer.core.helper import StoreAction, plan_store, same_vault
from renewer.core.model import TokenInfo
from renewer.core.outcome import ItemResult, Outcome
from renewer.core.secret import Secret
from renewer.errors import LockBusy, RenewerError, TokenFileError
from renewer.files import write_atomic
from renewer.lock import run_lock
from renewer.redact import scrub
from renewer.run import Runtime, token_env, write_metrics
from renewer.state import record_items
from renewer.tokens import kept
from renewer.tokens.env import TokenEnv
from renewer.tokens.heal import heal
from renewer.tokens.meanwhile import USE_LOGIN_ONCE
from renewer.tokens.results import failure
from renewer.tokens.sink import reconcile
from renewer.tokens.tokenfile import MAX_TOKEN_BYTES, read_token, write_token
from renewer.vault import HvacVault, RetryPolicy

# A login waits at most this long for a timer run to release the lock (a run
# takes seconds); then its token is stored as given and the next run heals it.
LOCK_WAIT = 10.0
# The heal's Vault calls get this long, with one retry: the login just reached
# Vault, so a failure now is an outage, and the person is waiting at a prompt.
VAULT_BUDGET = 15.0
VAULT_ATTEMPTS = 2
_PREFIX = "renewer: "


def announce(line: str) -> None:
    """Tell the person: stderr, and the terminal when the CLI captures our stderr.

    The line quotes Vault (display names, denials): it is scrubbed of secrets
    and of anything a terminal would interpret, then written as one line.
    """
    printable = "".join(char if char.isprintable() else "?" for char in scrub(line))
    text = f"{_PREFIX}{printable}\n"
    sys.stderr.write(text)
    sys.stderr.flush()
    if sys.stderr.isatty():
        return
    with contextlib.suppress(OSError):  # no controlling terminal: a script, a CI job
        fd = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


def helper_retry(config: Config, runtime: Runtime) -> RetryPolicy:
    budget = min(VAULT_BUDGET, float(config.run.deadline))
    return RetryPolicy(
        deadline=runtime.monotonic() + budget,
        attempts=VAULT_ATTEMPTS,
        clock=runtime.monotonic,
        sleep=runtime.sleep,
        rng=runtime.rng,
    )


def store_as_is(path: Path, token: Secret) -> None:
    """What the CLI itself would have done: the token, as given, in *path* (0600, atomic)."""
    try:
        write_atomic(path, token.reveal().encode("ascii", "replace"))
    except OSError as exc:
        raise TokenFileError(
            f"{path}: cannot store the login token: {exc.strerror or exc}",
            hint=f"check free space and permissions in {path.parent}",
        ) from None


def store(
    login: Secret,
    *,
    load_config: Callable[[], Config],
    sink_name: str,
    token_file: Path,
    environ: Mapping[str, str],
    runtime: Runtime,
) -> str:
    """Handle one login's token; return the line for the person.

    Raises (``TokenFileError``) only when the token could not be stored at all.
    """
    try:
        config = load_config()
        sink = config.token(sink_name)
    except RenewerError as error:
        store_as_is(token_file, login)
        return f"stored the token as given in {token_file}: renewer cannot use its config ({error})"
    note = _install_note(sink, token_file)
    try:
        return _store(config, sink, login, environ, runtime) + note
    except TokenFileError:
        raise  # the file cannot be written: the CLI says so and prints the token
    except Exception as error:  # a login must never fail because of us
        store_as_is(sink.path, login)
        reason = error.message if isinstance(error, RenewerError) else type(error).__name__
        return (
            f"stored your login token as given in {sink.path}: renewer's helper failed "
            f"({reason}); the next renewer run deals with {sink.name}{note}"
        )


def _store(
    config: Config, sink: TokenSink, login: Secret, environ: Mapping[str, str], runtime: Runtime
) -> str:
    problem = _token_problem(login.reveal())
    if problem:
        store_as_is(sink.path, login)
        return f"stored what the CLI handed over as given in {sink.path}: {problem}"
    cli_address = environ.get("VAULT_ADDR") or environ.get("BAO_ADDR") or ""
    if cli_address and not same_vault(cli_address, config.vault.addr):
        store_as_is(sink.path, login)
        return (
            f"stored the token as given in {sink.path}: this login is for {cli_address}, "
            f"renewer keeps {sink.name} on {config.vault.addr or '(no vault.addr)'}, "
            "so the token was not shown to it"
        )
    wait = min(LOCK_WAIT, float(config.run.lock_timeout))
    try:
        with run_lock(config.state_dir, timeout=wait, clock=runtime.monotonic, sleep=runtime.sleep):
            line, result = _store_locked(config, sink, login, runtime)
            return line + (_record(config, result, runtime) if result else "")
    except LockBusy:
        return _as_is_kept(
            config,
            sink,
            login,
            f"a renewer run holds the lock (waited {wait:g}s); the next run heals {sink.name}",
        )


def _as_is_kept(config: Config, sink: TokenSink, login: Secret, why: str) -> str:
    """Store the login as given, and keep a copy: a run may overwrite it with a heal."""
    try:
        kept.keep(config, sink.name, kept.Kind.LOGIN, login)
    except RenewerError as error:
        why += f" (warning: {error.message})"
    store_as_is(sink.path, login)
    return f"stored your login token as given in {sink.path}: {why}"


def _record(config: Config, result: ItemResult, runtime: Runtime) -> str:
    """``status`` shows what the login did; a failure to record costs a warning, not the login."""
    now = runtime.wall_clock()
    try:
        write_metrics(config, record_items(config.state_dir, [result], at=now), now=now)
    except (RenewerError, OSError) as error:
        return f" (warning: not recorded for `renewer status`: {error})"
    return ""


def _token_problem(value: str) -> str:
    """Why *value* cannot be a Vault token ("" when it may be one)."""
    if not value:
        return "it is empty, not a token"
    if len(value) > MAX_TOKEN_BYTES or not all(" " < char <= "~" for char in value):
        return "it is not one printable token"
    return ""


def _install_note(sink: TokenSink, token_file: Path) -> str:
    """The CLI's ``get`` reads the path baked into the helper script; say when it moved."""
    if token_file == sink.path:
        return ""
    return (
        f" (warning: the helper reads {token_file}, but {sink.name}'s path is now {sink.path}: "
        "run `renewer token-helper install` again)"
    )


def _store_locked(
    config: Config, sink: TokenSink, login: Secret, runtime: Runtime
) -> tuple[str, ItemResult | None]:
    with token_env(config, runtime, dry_run=False, retry=helper_retry(config, runtime)) as env:
        client = env.connection.client(login)
        try:
            info = client.lookup_self()
        except RenewerError as error:
            why = f"Vault could not check it ({error.message}); the next renewer run deals with it"
            return _as_is_kept(config, sink, login, why), None
        verdict = check_drift(info, sink.expect, owner=env.owner, sink=sink.name)
        action = plan_store(verdict, _current_verdict(sink, env))
        if action is StoreAction.STORE_OURS:
            write_token(sink.path, login)
            result = ItemResult(
                "token",
                sink.name,
                Outcome.OK,
                "token.stored",
                f"STORED {sink.name}: a login handed over {info.display_name}, a token of ours",
                {"display_name": info.display_name, "accessor": info.accessor},
            )
            return f"stored {info.display_name}, a token of ours, in {sink.path}", result
        try:  # before anything replaces it: the login's token is never lost
            kept.keep(config, sink.name, kept.Kind.LOGIN, login)
        except RenewerError as error:
            store_as_is(sink.path, login)
            return (
                f"stored your login token as given in {sink.path}: it could not be kept apart "
                f"({error.message}), so renewer did not replace it",
                None,
            )
        if action is StoreAction.KEEP_CURRENT:
            result = ItemResult(
                "token",
                sink.name,
                Outcome.OK,
                "token.kept",
                f"KEPT {sink.name}: its periodic token is healthy; the login of "
                f"{info.display_name!r} was set aside",
                {"foreign_display_name": info.display_name},
            )
            return (
                f"{sink.path} keeps {sink.name}'s periodic token {sink.expect.display_name} "
                f"(healthy); your login {info.display_name!r} is kept apart, use it once: "
                f"{USE_LOGIN_ONCE}",
                result,
            )
        return _heal_now(sink, env, client, info, login)


def _current_verdict(sink: TokenSink, env: TokenEnv) -> Verdict | None:
    """The drift guard on the token in the sink now; None when there is none or it is dead."""
    try:
        current = read_token(sink.path, sink=sink.name, recovery=env.recovery(sink))
        info = env.connection.client(current.token).lookup_self()
    except RenewerError:
        return None
    verdict = check_drift(info, sink.expect, owner=env.owner, sink=sink.name)
    reconcile(sink, env, info, ours=verdict.ok)  # adopt what an interrupted heal left
    return verdict


def _heal_now(
    sink: TokenSink, env: TokenEnv, client: HvacVault, info: TokenInfo, login: Secret
) -> tuple[str, ItemResult]:
    """Heal with the login's authority; on anything but success, store the login as given."""
    verdict = check_drift(info, sink.expect, owner=env.owner, sink=sink.name)
    plan = plan_heal(sink.name, info, verdict, sink.mint, owner=env.owner, source="this login")
    try:
        result = heal(sink, env, client, plan)
    except RenewerError as error:
        store_as_is(sink.path, login)
        return (
            f"stored your login token as given in {sink.path}: the heal of {sink.name} did "
            f"not finish ({error.message}); the next renewer run heals it",
            failure(sink, error, recovery=env.recovery(sink)),
        )
    if result.event == "token.drift":
        store_as_is(sink.path, login)
        summary = (
            f"DRIFT {sink.name}: the login {info.display_name!r} may not mint "
            f"{sink.expect.display_name} ({result.details.get('denial')}); its token was "
            f"stored as given in {sink.path}, as the CLI would. Recover: {env.recovery(sink)}"
        )
        return summary, ItemResult(
            "token", sink.name, Outcome.NEEDS_HUMAN, "token.drift", summary, result.details
        )
    line = (
        f"HEALED {sink.name}: {sink.path} holds a new periodic token "
        f"{result.details.get('display_name')} minted with the authority of your login "
        f"{info.display_name!r} ({result.details.get('swept')} stale token(s) of ours revoked); "
        f"your login token is kept apart, use it once: {USE_LOGIN_ONCE}"
    )
    if result.outcome is Outcome.WARNING:
        line += f" (warning: {result.summary})"
    return line, result
