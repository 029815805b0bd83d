"""``renewer demo``: the whole story on the embedded dev server."""

from __future__ import annotations

import click


@click.command("demo")
def demo_command() -> int:
    """Show the whole story on throwaway peers in a throwaway home, in a few seconds.

    Starts the embedded Vault-compatible dev server and a small OAuth2 server
    (Authlib's) on free loopback ports, writes a config and a token file in a
    temporary home, then runs the real commands: a renewal, a heal after an
    OIDC-style clobber (stale tokens swept), a DRIFT after a read-only
    clobber, the recovery with `renewer mint`, a service credential refreshed
    and written to its sink, a blue/green rotation with a 2-second grace, and
    the final status. Exit 0 when every step behaved. Touches nothing outside
    the temporary home.
    """
    from renewer.demo import main

    return main()


COMMANDS = [demo_command]
