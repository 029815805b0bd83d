"""``renewer devserver``: the embedded Vault-compatible server (tests and demo only)."""

from __future__ import annotations

import sys

import click


@click.command("devserver")
@click.option("--listen", default="127.0.0.1:8200", show_default=True, help="HOST:PORT (loopback).")
@click.option(
    "--root-token", required=True, help="The root token to accept (like -dev-root-token-id)."
)
@click.option(
    "--dev-controls", is_flag=True, help="Enable the /_dev/ test controls (clock, faults)."
)
def devserver(listen: str, root_token: str, dev_controls: bool) -> int:
    """Run an in-memory Vault-API-compatible server for development and tests.

    It is not a Vault: nothing is persisted and it never seals itself.
    Point real work at a real Vault.
    """
    from renewer.devserver.serve import ListenError, serve

    try:
        return serve(listen, root_token, dev_controls=dev_controls, out=sys.stdout)
    except ListenError as error:
        raise click.BadParameter(str(error), param_hint="--listen") from None
    except OSError as error:
        raise click.ClickException(f"cannot listen on {listen}: {error.strerror}") from None


COMMANDS = [devserver]
