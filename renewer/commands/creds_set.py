"""``renewer creds set``: store a credential's secret, and void what the old one made.

Values are read from a prompt (hidden for ``secret: true`` fields) or stdin,
never argv. Its own room: storing a secret is one careful transaction (check
the values, void derived tokens, write, clear a reauth mark) with its own
helpers; ``renewer.commands.creds`` attaches it to the ``creds`` group.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from renewer.app import AppContext, pass_app
from renewer.commands.creds_common import log_to_stderr
from renewer.output import say

if TYPE_CHECKING:
    from renewer.recipes.parts import SecretField


@click.command("set")
@click.argument("name")
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Read the values from stdin: a JSON object, or the value itself when the "
    "recipe asks for one (a service-account JSON key file as it is).",
)
@pass_app
def creds_set(app: AppContext, name: str, from_stdin: bool) -> None:
    """Store NAME's secret: prompts for each of the recipe's required_secrets.

    Values are never taken from the command line (it is visible to every
    process on the machine). Fields marked secret are not echoed.
    """
    import time

    from renewer.credentials.opening import catalog_for
    from renewer.credentials.refresh_lock import held, lock_path
    from renewer.primitives import primitive_for
    from renewer.primitives.base import register_secret
    from renewer.secretstore import Stores
    from renewer.secretstore.base import Namespace, merge_with

    log_to_stderr(app)
    config = app.config
    spec = config.credentials.credential(name)
    recipe = catalog_for(config).usable(spec.recipe)
    fields = recipe.required_secrets
    if not fields:
        raise click.UsageError(f"recipe {recipe.service} declares no required_secrets")
    values = _values_from_stdin(fields) if from_stdin else _values_from_prompts(fields)
    from renewer.credentials.handle import secret_values

    for value in secret_values(recipe, values):
        register_secret(value)
    _check_values(name, fields, values)
    store = Stores(config).get(spec.store)
    primitive = primitive_for(recipe.primitive, pki=spec.pki)
    with held(
        lock_path(config.state_dir, name),
        timeout=float(config.run.lock_timeout),
        what=f"credential {name}",
    ):
        current = store.read(spec.secret, Namespace.SECRET) or {}
        primitive.check_secret(name, recipe, {**current, **values})
        changed = frozenset(key for key, value in values.items() if current.get(key) != value)
        # The runtime state first: a crash between the two writes leaves old values
        # with nothing derived from them, never new values beside an old token.
        voided = _void_derived(store, spec.secret, primitive, changed)
        store.update(spec.secret, Namespace.SECRET, merge_with(values))
        if primitive.reauth_command(name, recipe) == f"renewer creds set {name}":
            _clear_reauth_mark(store, spec.secret)
    say(
        f"stored {len(values)} value(s) for {name} ({spec.secret}) in the {store.kind} store"
        + (f"; {len(changed)} changed" if current and changed else "")
    )
    if voided:
        say(f"dropped {voided} made with the previous values: the next use gets a new one")
    for warning in primitive.secret_warnings(name, recipe, values, now=time.time()):
        say(f"warning: {warning}", err=True)
    grant = recipe.grant if recipe.primitive == "oauth2" else None
    step = (
        f"renewer auth login {name}"
        if grant in {"authorization_code", "pkce"} and not _has_refresh_token(store, spec.secret)
        else (f"renewer creds test {name}")
    )
    say(f"next: {step}")


def _void_derived(store: Any, ref: Any, primitive: Any, changed: frozenset[str]) -> str:
    """Apply the primitive's rule for what a new secret voids; say what went, or ''."""
    from renewer.primitives.base import RuntimeState, RuntimeStateDamaged
    from renewer.secretstore.base import Namespace

    if not changed:
        return ""
    words: list[str] = []

    def void(record: dict[str, str] | None) -> dict[str, str]:
        try:
            runtime = RuntimeState.from_record(record)
        except RuntimeStateDamaged:
            runtime = RuntimeState()
        kept: RuntimeState = primitive.after_new_secret(runtime, changed)
        if runtime.access_token is not None and kept.access_token is None:
            session = "aws_access_key_id" in runtime.extra
            words.append("the STS session" if session else "the access token")
        if runtime.refresh_token is not None and kept.refresh_token is None:
            words.append("the refresh token")
        return kept.to_record()

    store.update(ref, Namespace.RUNTIME, void)
    return " and ".join(words)


def _has_refresh_token(store: Any, ref: Any) -> bool:
    from renewer.primitives.base import RuntimeState, RuntimeStateDamaged
    from renewer.secretstore.base import Namespace

    try:
        runtime = RuntimeState.from_record(store.read(ref, Namespace.RUNTIME))
    except RuntimeStateDamaged:
        return False
    return runtime.refresh_token is not None


def _clear_reauth_mark(store: Any, ref: Any) -> None:
    """The person did what the mark asked (stored new values): let the next run try them."""
    from dataclasses import replace

    from renewer.primitives.base import RuntimeState, RuntimeStateDamaged
    from renewer.secretstore.base import Namespace

    try:
        runtime = RuntimeState.from_record(store.read(ref, Namespace.RUNTIME))
    except RuntimeStateDamaged:
        return
    if runtime.needs_reauth:
        cleared = replace(runtime, needs_reauth=False, reauth_reason="").to_record()
        store.update(ref, Namespace.RUNTIME, lambda _current: cleared)


def _values_from_prompts(fields: tuple[SecretField, ...]) -> dict[str, str]:
    values = {}
    for item in fields:
        label = item.label + (" (optional, Enter to skip)" if item.optional else "")
        if item.help_url:
            say(f"{item.label}: see {item.help_url}", err=True)
        value = click.prompt(
            label,
            hide_input=item.secret,
            default="" if item.optional else None,
            show_default=False,
            err=True,
        )
        if value:
            values[item.key] = value
    return values


def _values_from_stdin(fields: tuple[SecretField, ...]) -> dict[str, str]:
    text = sys.stdin.read()
    required = [item for item in fields if not item.optional]
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    blobs = [item for item in fields if item.type == "json_blob"]
    if isinstance(document, dict):
        known = {item.key for item in fields}
        unknown = sorted(set(document) - known)
        if unknown and len(blobs) == 1 and len(required) <= 1:
            # The pasted key file itself (a service-account JSON), not a map of fields.
            return {blobs[0].key: text.strip()}
        if unknown:
            raise click.UsageError(
                f"unknown key(s) on stdin: {', '.join(unknown)} "
                f"(the recipe asks for {', '.join(sorted(known))})"
            )
        if not all(isinstance(value, str) for value in document.values()):
            raise click.UsageError("every value on stdin must be a string")
        return {key: value for key, value in document.items() if value}
    if len(fields) == 1 or len(required) == 1:
        target = required[0] if required else fields[0]
        value = text[:-1] if text.endswith("\n") else text
        return {target.key: value} if value else {}
    keys = ", ".join(item.key for item in fields)
    raise click.UsageError(f"this recipe asks for several values: give a JSON object with {keys}")


def _check_values(name: str, fields: tuple[SecretField, ...], values: dict[str, str]) -> None:
    missing = [item.key for item in fields if not item.optional and not values.get(item.key)]
    if missing:
        raise click.UsageError(f"{name}: no value for {', '.join(missing)}; nothing was stored")
    for item in fields:
        value = values.get(item.key, "")
        if value and item.type == "json_blob":
            try:
                json.loads(value)
            except ValueError:
                raise click.UsageError(
                    f"{item.key}: not valid JSON; nothing was stored (paste the whole file "
                    "with --stdin: renewer creds set NAME --stdin < key.json)"
                ) from None
        if value and item.type in {"pem_cert", "pem_key"} and "-----BEGIN " not in value:
            raise click.UsageError(
                f"{item.key}: not PEM text (use --stdin to paste several lines); nothing was stored"
            )
