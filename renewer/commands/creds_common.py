"""What the ``creds``, ``auth`` and ``recipes`` commands share: logging aside, opening, tables.

Its own room so each command module imports these without importing another
command group. Like every module here, it imports only small renewer modules
at the top; the credential machinery is imported inside the function bodies.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from renewer.app import AppContext

if TYPE_CHECKING:
    from renewer.credentials.handle import Credential


def log_to_stderr(app: AppContext) -> None:
    """Logs go to stderr so stdout stays the command's answer."""
    try:
        app.setup_logging()
    except ImportError:  # renewer.logging is not in this build yet: keep stdout clean anyway
        import structlog

        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))


def open_configured(app: AppContext, name: str) -> Credential:
    """The configured credential *name*, with its store and an HTTP client."""
    from renewer.credentials.opening import open_credential
    from renewer.primitives.http import Http
    from renewer.secretstore import Stores

    config = app.config
    return open_credential(config, name, stores=Stores(config), http=Http())


def recipe_rows(catalog: Any) -> list[dict[str, str]]:
    """One row a recipe; a broken recipe is listed as INVALID, so one file cannot hide the rest."""
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


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart; the last column is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
