"""``renewer check``: everything that can be verified without changing anything.

The config is already valid when this runs (loading it is the first check).
Then: the state dir, each rotation's state file (readable? where does it
stand, when is it due?), every token file (present, one token, our own, mode
0600), Vault reachable and unsealed, and each sink's token looked up (read
only) and put through the drift guard. On drift, Vault is asked read-only
(``sys/capabilities-self``) whether the token in the file may mint ours, so
the line says what ``renewer run`` will do: heal it (warn, exit 0) or be
denied (fail, exit 1, with the recovery). Nothing is renewed, minted,
repaired or revoked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from renewer.config import Config, RotationSpec, TokenSink, vault_token_from_env
from renewer.core.drift import Verdict, check_drift
from renewer.core.duration import format_ttl
from renewer.core.heal import plan_heal
from renewer.core.model import TokenInfo
from renewer.errors import (
    EXIT_CONFIG,
    EXIT_NEEDS_HUMAN,
    EXIT_OK,
    EXIT_TEMPORARY,
    ConfigInvalid,
    RenewerError,
)
from renewer.run import Runtime, retry_policy
from renewer.tokens.forecast import forecast_heal
from renewer.tokens.owner import installation_owner
from renewer.tokens.results import recovery_command
from renewer.tokens.sink import shown
from renewer.tokens.tokenfile import read_token
from renewer.vault import HvacVault, VaultConnection


@dataclass(frozen=True, slots=True)
class Finding:
    status: str  # "ok", "warn", "fail"
    subject: str
    detail: str
    exit_code: int = EXIT_OK

    def line(self) -> str:
        return f"{self.status:<4}  {self.subject}: {self.detail}"


def run_checks(config: Config) -> list[Finding]:
    findings = [Finding("ok", "config", f"{config.source} is valid")]
    findings.append(_state_dir(config))
    findings.extend(_rotation(config, index) for index in range(len(config.rotations)))
    findings.extend(_recipes(config))
    findings.extend(_credentials(config))
    findings.extend(_token_helper(config))
    if not config.tokens:
        if not config.credentials.credentials and not config.rotations:
            # install.sh reads this line: it does not enable a timer with nothing to do.
            findings.append(
                Finding(
                    "warn",
                    "tokens",
                    f"none configured: renewer has nothing to keep alive yet "
                    f"(edit tokens: in {config.source})",
                )
            )
        return findings
    runtime = Runtime()
    try:
        connection = VaultConnection(config.vault, retry_policy(config, runtime))
    except ConfigInvalid as error:  # no Vault address anywhere
        findings.append(Finding("fail", "vault", f"{error.message}; {error.hint}", EXIT_CONFIG))
        return findings
    with connection:
        findings.append(_vault(config, connection))
        if findings[-1].status == "fail":
            return findings
        owner = installation_owner(config, persist=False)
        findings.extend(
            _sink(config, connection, index, owner) for index in range(len(config.tokens))
        )
    return findings


_RECIPE_STATES = {"recipe-invalid"}


def _recipes(config: Config) -> list[Finding]:
    """Every recipe file in the user's recipe directories, used or not, resolves and passes."""
    from renewer.credentials.handle import catalog_for
    from renewer.recipes.sites import snapshot_date

    catalog = catalog_for(config)
    user = [name for name in catalog.names() if catalog.files[name][0].origin == "user"]
    if not user:
        return []
    findings = []
    for name in user:
        try:
            catalog.resolve(name)
        except RenewerError as error:
            detail = error.message.splitlines()[0] + (f"; {error.hint}" if error.hint else "")
            subject = f"recipe {name} ({catalog.files[name][0].path})"
            findings.append(Finding("fail", subject, detail, error.exit_code))
    if not findings:
        dirs = ", ".join(str(path) for path in config.credentials.recipes.dirs)
        findings.append(
            Finding(
                "ok",
                "recipes",
                f"{len(user)} user recipe(s) in {dirs} valid "
                f"(sites by the Public Suffix List of {snapshot_date()})",
            )
        )
    return findings


def _credentials(config: Config) -> list[Finding]:
    """Each credential's recipe and stored state, read locally (no service is called)."""
    if not config.credentials.credentials:
        return []
    from renewer.credentials.status import credential_statuses
    from renewer.primitives.http import Http
    from renewer.secretstore import Stores

    findings = []
    for status in credential_statuses(config, http=Http(), stores=Stores(config)):
        subject = f"credential {status.name} ({status.recipe}, {status.store} store)"
        detail = f"{status.state}: {status.detail}" + (f"; {status.hint}" if status.hint else "")
        if status.healthy:
            findings.append(Finding("ok", subject, detail))
        else:
            code = EXIT_CONFIG if status.state in _RECIPE_STATES else EXIT_NEEDS_HUMAN
            findings.append(Finding("fail", subject, detail, code))
    return findings


def _token_helper(config: Config) -> list[Finding]:
    """The vault/bao CLI token helper, when installed: does what the CLIs run still fit?"""
    import os

    from renewer.tokens.helper_install import installed_for, read_baked, script_path

    script = script_path(config.data_dir)
    named = installed_for(config.data_dir, config.home, os.environ)
    if not script.exists() and not named:
        return []  # opt-in, and not opted in
    subject = f"token helper {script}"
    clis = ", ".join(f"{cli} ({path})" for cli, path in named.items())
    if not script.exists():
        return [
            Finding(
                "fail",
                subject,
                f"{clis} names it, but it is missing: every such CLI command fails; "
                "run `renewer token-helper install` (or `uninstall`)",
                EXIT_NEEDS_HUMAN,
            )
        ]
    baked = read_baked(script)
    sink = next((s for s in config.tokens if baked and s.name == baked.sink), None)
    if baked is None or sink is None:
        return [
            Finding(
                "fail",
                subject,
                f"it names no token sink of this config ({baked.sink if baked else 'unreadable'})"
                "; run `renewer token-helper install --sink NAME`",
                EXIT_NEEDS_HUMAN,
            )
        ]
    if baked.token_file != str(sink.path):
        return [
            Finding(
                "warn",
                subject,
                f"the CLI's get reads {baked.token_file}, but {sink.name}'s path is {sink.path}; "
                "run `renewer token-helper install` again",
            )
        ]
    if not named:
        return [
            Finding(
                "warn",
                subject,
                "no CLI config names it; `renewer token-helper "
                "install` sets token_helper in ~/.vault / ~/.bao",
            )
        ]
    return [Finding("ok", subject, f"{clis} hand logins to it, for {sink.name} ({sink.path})")]


def _state_dir(config: Config) -> Finding:
    from renewer.errors import StateUntrusted
    from renewer.files import require_trusted

    path = config.state_dir
    try:
        require_trusted(path, what="state dir")
    except StateUntrusted as exc:
        return Finding("fail", "state dir", f"{exc}; fix: {exc.hint}", exc.exit_code)
    if not path.exists():
        return Finding("ok", "state dir", f"{path} will be created (0700) on the first run")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return Finding(
            "warn", "state dir", f"{path} is mode {mode:o}; expected 0700 (chmod 700 {path})"
        )
    return Finding("ok", "state dir", str(path))


def _rotation(config: Config, index: int) -> Finding:
    """The rotation's recorded state is readable; where it stands, when it is due next."""
    from renewer.rotation.machine import new_state
    from renewer.rotation.notes import attention
    from renewer.rotation.runner import next_due_at
    from renewer.rotation.schedule import as_iso
    from renewer.rotation.store import RotationStore

    spec = config.rotations[index]
    subject = f"rotation {spec.name} ({spec.type.value})"
    try:
        state = RotationStore(config.state_dir).load(spec.name)
    except RenewerError as error:
        return Finding("fail", subject, f"{error.message}; see {error.see}", error.exit_code)
    current = state or new_state(spec.name, spec.type.value, now=time.time())
    due = as_iso(next_due_at(spec, current), spec.schedule.timezone) or "by hand only"
    phase = current.phase.value if state is not None else "not run yet"
    registration = _registration(config, spec)
    if registration:
        return Finding("fail", subject, registration, EXIT_CONFIG)
    problem = attention(current, now=time.time())
    if problem:
        return Finding("warn", subject, f"{phase}; {problem}")
    return Finding("ok", subject, f"{phase}, next due {due}")


def _registration(config: Config, spec: RotationSpec) -> str:
    """Why a static rotation's ``register:`` cannot work with its recipe ("" when it can)."""
    if not spec.register_credential:
        return ""
    from renewer.credentials.handle import catalog_for
    from renewer.rotation.targets.credential_entry import check_registration

    try:
        credential = config.credentials.credential(spec.credential)
        check_registration(spec, catalog_for(config).usable(credential.recipe))
    except RenewerError as error:
        return f"{error.message}; see {error.see}"
    return ""


def _vault(config: Config, connection: VaultConnection) -> Finding:
    subject = f"vault {config.vault.addr} (from {config.vault.addr_source})"
    try:
        health = connection.client(None).health()
    except RenewerError as error:
        return Finding("fail", subject, error.message, EXIT_TEMPORARY)
    if health.get("sealed"):
        return Finding("fail", subject, "Vault is sealed", EXIT_TEMPORARY)
    return Finding("ok", subject, f"reachable, version {health.get('version', '?')}")


def _sink(config: Config, connection: VaultConnection, index: int, owner: str) -> Finding:
    sink = config.tokens[index]
    subject = f"token {sink.name} ({sink.path})"
    recovery = recovery_command(
        sink, home=config.home, vault_token_set=vault_token_from_env() is not None
    )
    try:
        token_file = read_token(sink.path, sink=sink.name, recovery=recovery)
        client = connection.client(token_file.token)
        info = client.lookup_self()
    except RenewerError as error:
        return Finding(
            "fail", subject, f"{error.message}; {error.hint}".rstrip("; "), error.exit_code
        )
    verdict = check_drift(info, sink.expect, owner=owner, sink=sink.name)
    if not verdict.ok:
        return _drift_finding(
            sink,
            subject,
            client=client,
            info=info,
            verdict=verdict,
            owner=owner,
            recovery=recovery,
            home=config.home,
        )
    if token_file.loose_mode:
        return Finding(
            "warn", subject, f"mode {token_file.mode:o}; the next run repairs it to 0600"
        )
    return Finding("ok", subject, f"ours ({info.display_name}), ttl {format_ttl(info.ttl)}")


def _drift_finding(
    sink: TokenSink,
    subject: str,
    *,
    client: HvacVault,
    info: TokenInfo,
    verdict: Verdict,
    owner: str,
    recovery: str,
    home: Path,
) -> Finding:
    """Drift: predict, read-only, whether ``renewer run`` will heal it (exit as it would)."""
    source = shown(sink.path, home)
    plan = plan_heal(sink.name, info, verdict, sink.mint, owner=owner, source=source)
    drift = f"drift: {verdict.explain()}"
    try:
        forecast = forecast_heal(client, plan)
    except RenewerError as error:
        return Finding("fail", subject, f"{drift}; {error.message}", error.exit_code)
    if forecast.allowed:
        return Finding(
            "warn",
            subject,
            f"{drift}; `renewer run` will heal it with the authority of {plan.authority()} "
            f"({forecast.reason})",
        )
    if forecast.allowed is None:
        return Finding(
            "warn",
            subject,
            f"{drift}; `renewer run --only {sink.name}` will try to heal it; {forecast.words()}",
        )
    return Finding(
        "fail",
        subject,
        f"{drift}; {forecast.words()}; the file would be left untouched. Recover: {recovery}",
        EXIT_NEEDS_HUMAN,
    )
