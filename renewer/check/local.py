"""The checks besides Vault and the token sinks: state dir, rotations, recipes, credentials, helper.

Its own room: these read renewer's own files (and, for credentials, their
stored state, without calling any service), independent of the token sinks'
Vault checks in :mod:`renewer.check.tokens`; they run even when no token sink
is configured.
"""

from __future__ import annotations

import time

from renewer.check.finding import Finding
from renewer.config import Config, RotationSpec
from renewer.errors import EXIT_CONFIG, EXIT_NEEDS_HUMAN, RenewerError

_RECIPE_STATES = {"recipe-invalid"}


def check_recipes(config: Config) -> list[Finding]:
    """Every recipe file in the user's recipe directories, used or not, resolves and passes."""
    from renewer.credentials.opening import catalog_for
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


def check_credentials(config: Config) -> list[Finding]:
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


def check_token_helper(config: Config) -> list[Finding]:
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


def check_state_dir(config: Config) -> Finding:
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


def check_rotation(config: Config, index: int) -> Finding:
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
    from renewer.credentials.opening import catalog_for
    from renewer.rotation.targets.credential_entry import check_registration

    try:
        credential = config.credentials.credential(spec.credential)
        check_registration(spec, catalog_for(config).usable(credential.recipe))
    except RenewerError as error:
        return f"{error.message}; see {error.see}"
    return ""
