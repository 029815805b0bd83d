"""``renewer recipes``: list and show the recipes this configuration sees.

Its own room: a command group of its own, which works before a config file
exists (it falls back to the defaults).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from renewer.app import AppContext, pass_app
from renewer.commands.creds_common import format_table, recipe_rows
from renewer.output import say

if TYPE_CHECKING:
    from renewer.config import Config
    from renewer.recipes.model import Recipe


@click.group("recipes")
def recipes() -> None:
    """Recipes: how each service is called and its credential injected."""


@recipes.command("list")
@pass_app
def recipes_list(app: AppContext) -> None:
    """Every recipe visible with this configuration (user ones first)."""
    from renewer.credentials.opening import catalog_for

    rows = [("RECIPE", "PRIMITIVE", "FROM", "DESCRIPTION")]
    rows += [
        (r["name"], r["primitive"], r["origin"], r["description"])
        for r in recipe_rows(catalog_for(_config_or_default(app)))
    ]
    say(format_table(rows))


@recipes.command("show")
@click.argument("name")
@pass_app
def recipes_show(app: AppContext, name: str) -> None:
    """NAME resolved after extends, as YAML, with the files it came from."""
    import yaml

    from renewer.credentials.opening import catalog_for

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


COMMANDS = [recipes]
