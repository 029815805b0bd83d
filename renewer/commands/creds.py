"""``renewer creds``, ``renewer auth`` and ``renewer recipes``: the primitive layer by hand.

Secrets never appear in output: ``creds set`` reads them from a prompt
(hidden for ``secret: true`` fields) or stdin, never argv; ``creds call``
prints the status and the service's body, never the injected headers.
Errors are ``RenewerError``s, mapped to exit codes by ``renewer.cli``
(1 needs a human, 75 temporary, 78 configuration or recipe).
Reference: docs/credentials.md; runbook: runbooks/credentials.md.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from renewer.app import AppContext, pass_app
from renewer.output import say, show_body

if TYPE_CHECKING:
    from renewer.config import Config
    from renewer.credentials.handle import Credential
    from renewer.recipes.model import Recipe, SecretField


def _setup_logging(app: AppContext) -> None:
    """Logs go to stderr so stdout stays the command's answer."""
    try:
        app.setup_logging()
    except ImportError:  # renewer.logging is not in this build yet: keep stdout clean anyway
        import structlog

        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))


def _open(app: AppContext, name: str) -> Credential:
    from renewer.credentials.handle import open_credential
    from renewer.primitives.http import Http
    from renewer.secretstore import Stores

    config = app.config
    return open_credential(config, name, stores=Stores(config), http=Http())


# --- creds ------------------------------------------------------------------


@click.group("creds")
def creds() -> None:
    """Service credentials: list, test, call, set. Secrets are never printed."""


@creds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def creds_list(app: AppContext, as_json: bool) -> None:
    """Configured credentials with their state, then the available recipes."""
    from dataclasses import asdict

    from renewer.credentials.handle import catalog_for
    from renewer.credentials.status import credential_statuses
    from renewer.primitives.http import Http
    from renewer.secretstore import Stores

    _setup_logging(app)
    config = app.config
    catalog = catalog_for(config)
    statuses = credential_statuses(config, http=Http(), stores=Stores(config), catalog=catalog)
    recipes = _recipe_rows(catalog)
    if as_json:
        document = {"credentials": [asdict(s) for s in statuses], "recipes": recipes}
        say(json.dumps(document, indent=2))
        return
    if statuses:
        table = [("CREDENTIAL", "RECIPE", "SECRET", "STORE", "STATE")]
        table += [(s.name, s.recipe, s.secret, s.store, _state_words(s)) for s in statuses]
        say(_table(table))
    else:
        say("No credentials configured (see docs/credentials.md).")
    say()
    rows = [("RECIPE", "PRIMITIVE", "FROM", "DESCRIPTION")]
    rows += [(r["name"], r["primitive"], r["origin"], r["description"]) for r in recipes]
    say(_table(rows))


def _state_words(status: Any) -> str:
    text = f"{status.state}: {status.detail}" if status.detail else status.state
    return f"{text} → {status.hint}" if status.hint and not status.healthy else text


def _recipe_rows(catalog: Any) -> list[dict[str, str]]:
    from renewer.errors import RecipeError

    rows = []
    for name in catalog.names():
        source = catalog.source(name)
        try:
            recipe = catalog.resolve(name)
            primitive = recipe.primitive or "-"
            description = recipe.display_name or recipe.description
            if recipe.abstract:
                description = f"(abstract) {description}".strip()
        except RecipeError as error:
            primitive, description = "?", f"INVALID: {error.message.splitlines()[0]}"
        rows.append(
            {
                "name": name,
                "primitive": primitive,
                "origin": source.origin,
                "path": str(source.path),
                "description": description,
            }
        )
    return rows


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


@creds.command("test")
@click.argument("name")
@pass_app
def creds_test(app: AppContext, name: str) -> None:
    """Run NAME's recipe test now (refreshing first if due). Exit 0 pass, 1 fail, 75 unreachable."""
    _setup_logging(app)
    credential = _open(app, name)
    fresh = credential.ensure_fresh()
    if not credential.primitive.has_test(credential.recipe):
        say(f"{name}: recipe {credential.recipe.service} has no test; nothing to check.")
        return
    checked = credential.checked(fresh.state, refreshed=fresh.refreshed)
    spec = credential.recipe.test
    if spec is None:
        call = "TLS handshake with the client certificate"
    else:
        status = checked.result.status
        call = f"{spec.method} {spec.path}" + ("" if status is None else f" → HTTP {status}")
        if credential.recipe.primitive == "mtls":
            call = f"TLS handshake, {call}"
    refreshed = " (refreshed first)" if fresh.refreshed or checked.refreshed else ""
    if checked.result.passed:
        say(f"PASS {name}: {call}{refreshed}")
        return
    from renewer.errors import CredentialError

    say(f"FAIL {name}: {call}{refreshed}")
    for problem in checked.result.problems:
        say(f"  {problem}")
    say(f"hint: {credential.test_failure_hint(checked.result)}", err=True)
    say(f"see: {CredentialError.see_for('credential-failed')}", err=True)
    click.get_current_context().exit(1)


@creds.command("call")
@click.argument("name")
@click.argument(
    "method",
    type=click.Choice(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"], case_sensitive=False),
)
@click.argument("path")
@click.option("--data", "-d", "data", help="Request body: @FILE, - for stdin, or the text itself.")
@click.option("--header", "-H", "headers", multiple=True, help="Extra header 'Name: value'.")
@pass_app
def creds_call(
    app: AppContext,
    *,
    name: str,
    method: str,
    path: str,
    data: str | None,
    headers: tuple[str, ...],
) -> None:
    """Call the service as NAME: PATH is relative to the recipe's base_url.

    Prints the status line to stderr and the body, as the service sent it, to
    stdout (on a terminal, with control characters shown as escapes). Exit 0
    for 1xx-3xx, 1 for 4xx, 75 for 5xx or no answer.
    """
    import requests

    from renewer.binding import BoundSession
    from renewer.errors import ServiceUnavailable

    _setup_logging(app)
    body = _read_data(data)
    extra = dict(_split_header(item) for item in headers)
    if body is not None and "content-type" not in {key.lower() for key in extra}:
        extra["Content-Type"] = "application/json" if _is_json(body) else "text/plain"
    credential = _open(app, name)
    with BoundSession(credential) as session:
        try:
            response = session.request(method.upper(), path, data=body, headers=extra)
        except (requests.ConnectionError, requests.Timeout) as exc:
            reason = (
                "no answer in time" if isinstance(exc, requests.Timeout) else "could not connect"
            )
            raise ServiceUnavailable(
                f"{name}: {method.upper()} {path}: {reason}",
                hint="check the service and the network; try again",
            ) from None
    say(f"HTTP {response.status_code} {response.reason}", err=True)
    show_body(response.content)  # scrubbed of known secrets on the way out (renewer.redact)
    if response.status_code >= 500:
        click.get_current_context().exit(75)
    if response.status_code >= 400:
        click.get_current_context().exit(1)


def _read_data(data: str | None) -> bytes | None:
    if data is None:
        return None
    if data == "-":
        return sys.stdin.buffer.read()
    if data.startswith("@"):
        from pathlib import Path

        try:
            return Path(data[1:]).read_bytes()
        except OSError as exc:
            raise click.BadParameter(
                f"cannot read {data[1:]}: {exc.strerror}", param_hint="--data"
            ) from None
    return data.encode()


def _split_header(item: str) -> tuple[str, str]:
    name, sep, value = item.partition(":")
    if not sep or not name.strip():
        raise click.BadParameter(f"expected 'Name: value', got {item!r}", param_hint="--header")
    return name.strip(), value.strip()


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


@creds.command("set")
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

    from renewer.credentials.handle import catalog_for
    from renewer.credentials.refresh_lock import held, lock_path
    from renewer.primitives import primitive_for
    from renewer.primitives.base import register_secret
    from renewer.secretstore import Stores
    from renewer.secretstore.base import Namespace, merge_with

    _setup_logging(app)
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


# --- auth -------------------------------------------------------------------


@click.group("auth")
def auth() -> None:
    """OAuth2 authorization of credentials."""


@auth.command("login")
@click.argument("name")
@click.option(
    "--timeout",
    default="5m",
    show_default=True,
    help="How long to wait for the browser's redirect (e.g. 90s, 5m).",
)
@click.option("--open", "open_browser", is_flag=True, help="Also open the URL in a browser.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Loopback port for the redirect (default: random); fix it to tunnel it over SSH.",
)
@pass_app
def auth_login(app: AppContext, name: str, timeout: str, open_browser: bool, port: int) -> None:
    """Authorize NAME in a browser (OAuth2 code grant, PKCE, loopback redirect)."""
    from renewer.core.duration import format_ttl, parse_duration
    from renewer.credentials.login import login

    _setup_logging(app)
    try:
        seconds = parse_duration(timeout)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from None
    credential = _open(app, name)

    def announce(url: str, redirect_uri: str) -> None:
        say(f"Open this URL in a browser to authorize {name}:\n\n  {url}\n")
        say(f"Waiting up to {format_ttl(seconds)} for the redirect to {redirect_uri} ...")

    opener = None
    if open_browser:
        import webbrowser

        opener = webbrowser.open
    runtime = login(credential, announce=announce, open_browser=opener, timeout=seconds, port=port)
    valid = ""
    if runtime.expires_at is not None:
        left = round(runtime.expires_at - credential.http.now())
        valid = f"; access token valid for {format_ttl(left)}"
    say(f"authorized {name}{valid}")


# --- recipes ----------------------------------------------------------------


@click.group("recipes")
def recipes() -> None:
    """Recipes: how each service is called and its credential injected."""


@recipes.command("list")
@pass_app
def recipes_list(app: AppContext) -> None:
    """Every recipe visible with this configuration (user ones first)."""
    from renewer.credentials.handle import catalog_for

    rows = [("RECIPE", "PRIMITIVE", "FROM", "DESCRIPTION")]
    rows += [
        (r["name"], r["primitive"], r["origin"], r["description"])
        for r in _recipe_rows(catalog_for(_config_or_default(app)))
    ]
    say(_table(rows))


@recipes.command("show")
@click.argument("name")
@pass_app
def recipes_show(app: AppContext, name: str) -> None:
    """NAME resolved after extends, as YAML, with the files it came from."""
    import yaml

    from renewer.credentials.handle import catalog_for

    recipe = catalog_for(_config_or_default(app)).resolve(name)
    say(f"# recipe {recipe.service}, from (own file first):")
    for source in recipe.sources:
        say(f"#   {source}")
    say(yaml.safe_dump(_plain(recipe), sort_keys=False, allow_unicode=True).rstrip())


def _plain(recipe: Recipe) -> dict[str, Any]:
    from renewer.core.merge import plain

    data: dict[str, Any] = plain(recipe.data)
    return data


def _config_or_default(app: AppContext) -> Config:
    """The config; without a config file, the defaults (so `recipes` works before setup)."""
    from renewer.config import default_config_path

    path = app.config_path or default_config_path(app.environ)
    if app.config_path is None and not path.exists():
        import os

        from renewer.config import build_config
        from renewer.yamlmarks import Document

        document = Document(source=str(path), data={"version": 1}, lines={})
        return build_config(document, source=path, environ=app.environ or dict(os.environ))
    return app.config


COMMANDS = [creds, auth, recipes]
