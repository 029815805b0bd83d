"""``renewer demo``: the whole story on the embedded dev server."""

from __future__ import annotations

import click


@click.command("demo")
def demo_command() -> int:
    """Show renew, heal, drift and recovery on a throwaway dev server and home.

    Starts the embedded Vault-compatible dev server on a free loopback port,
    writes a config and a token file in a temporary home, then runs the real
    commands: a renewal, a heal after an OIDC-style clobber (stale tokens
    swept), a DRIFT after a read-only clobber, the recovery with
    `renewer mint`, and the final status. Exit 0 when every step behaved.
    Touches nothing outside the temporary home.
    """
    from renewer.demo import main

    return main()


COMMANDS = [demo_command]
