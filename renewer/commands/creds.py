"""``renewer creds``: list, test, call and set service credentials by hand.

Secrets never appear in output: ``creds set`` reads them from a prompt
(hidden for ``secret: true`` fields) or stdin, never argv; ``creds call``
prints the status and the service's body, never the injected headers.
Errors are ``RenewerError``s, mapped to exit codes by ``renewer.cli``
(1 needs a human, 75 temporary, 78 configuration or recipe).
Reference: docs/credentials.md; runbook: runbooks/credentials.md.
``creds set`` lives in :mod:`renewer.commands.creds_set`; ``renewer auth`` and
``renewer recipes`` have their own modules.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from renewer.app import AppContext, pass_app
from renewer.commands.creds_common import format_table, log_to_stderr, open_configured, recipe_rows
from renewer.commands.creds_set import creds_set
from renewer.output import say, show_body


@click.group("creds")
def creds() -> None:
    """Service credentials: list, test, call, set. Secrets are never printed."""


@creds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_app
def creds_list(app: AppContext, as_json: bool) -> None:
    """Configured credentials with their state, then the available recipes."""
    from dataclasses import asdict

    from renewer.credentials.opening import catalog_for
    from renewer.credentials.status import credential_statuses
    from renewer.primitives.http import Http
    from renewer.secretstore import Stores

    log_to_stderr(app)
    config = app.config
    catalog = catalog_for(config)
    statuses = credential_statuses(config, http=Http(), stores=Stores(config), catalog=catalog)
    recipes = recipe_rows(catalog)
    if as_json:
        document = {"credentials": [asdict(s) for s in statuses], "recipes": recipes}
        say(json.dumps(document, indent=2))
        return
    if statuses:
        table = [("CREDENTIAL", "RECIPE", "SECRET", "STORE", "STATE")]
        table += [(s.name, s.recipe, s.secret, s.store, _state_words(s)) for s in statuses]
        say(format_table(table))
    else:
        say("No credentials configured (see docs/credentials.md).")
    say()
    rows = [("RECIPE", "PRIMITIVE", "FROM", "DESCRIPTION")]
    rows += [(r["name"], r["primitive"], r["origin"], r["description"]) for r in recipes]
    say(format_table(rows))


def _state_words(status: Any) -> str:
    text = f"{status.state}: {status.detail}" if status.detail else status.state
    return f"{text} → {status.hint}" if status.hint and not status.healthy else text


@creds.command("test")
@click.argument("name")
@pass_app
def creds_test(app: AppContext, name: str) -> None:
    """Run NAME's recipe test now (refreshing first if due). Exit 0 pass, 1 fail, 75 unreachable."""
    log_to_stderr(app)
    credential = open_configured(app, name)
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

    log_to_stderr(app)
    body = _read_data(data)
    extra = dict(_split_header(item) for item in headers)
    if body is not None and "content-type" not in {key.lower() for key in extra}:
        extra["Content-Type"] = "application/json" if _is_json(body) else "text/plain"
    credential = open_configured(app, name)
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


creds.add_command(creds_set)

COMMANDS = [creds]
