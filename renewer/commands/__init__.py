"""Command groups, one module each; imported by ``renewer.cli``.

Modules here import only click and small renewer modules at the top; the
heavy lifting (hvac, requests, Authlib) is imported inside the command body.
"""

from __future__ import annotations

import click


def register_all(root: click.Group) -> None:
    """Attach every command group to the root group."""
    from renewer.commands import (
        auth,
        creds,
        demo,
        devserver,
        helper,
        notify,
        recipes,
        rotation,
        status,
        tokens,
    )

    for module in (tokens, helper, rotation, status, creds, auth, recipes, notify, demo, devserver):
        for command in module.COMMANDS:
            root.add_command(command)
