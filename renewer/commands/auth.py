"""``renewer auth login``: authorize an OAuth2 credential in a browser.

Its own room: a command group of its own, with one interactive command.
Reference: docs/credentials.md; runbook: runbooks/credentials.md.
"""

from __future__ import annotations

import click

from renewer.app import AppContext, pass_app
from renewer.commands.creds_common import log_to_stderr, open_configured
from renewer.output import say


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

    log_to_stderr(app)
    try:
        seconds = parse_duration(timeout)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from None
    credential = open_configured(app, name)

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


COMMANDS = [auth]
