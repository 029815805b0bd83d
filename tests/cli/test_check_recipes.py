"""`renewer check` looks at every recipe in the recipe directories, used or not (item 8)."""

from __future__ import annotations

from tests.cli.helpers import Ran, invoke
from tests.workspace import Workspace

GOOD = """\
service: good
version: 1
primitive: static_key
base_url: https://api.example.com
required_secrets: [{key: token}]
inject: {header: {Authorization: "Bearer {{secret.token}}"}}
"""


def check(workspace: Workspace) -> Ran:
    workspace.write_config()
    return invoke(["--config", str(workspace.config_path), "check"], env=workspace.environ)


def test_valid_user_recipes_are_reported_with_the_suffix_list_date(workspace: Workspace) -> None:
    """One ok line, naming the directory and the Public Suffix List snapshot."""
    workspace.recipe("good", GOOD)

    ran = check(workspace)

    assert ran.code == 0, ran.stdout
    line = next(line for line in ran.stdout.splitlines() if line.startswith("ok    recipes:"))
    assert f"1 user recipe(s) in {workspace.recipes} valid" in line
    assert "(sites by the Public Suffix List of 20" in line


def test_an_invalid_recipe_nobody_uses_fails_the_check(workspace: Workspace) -> None:
    """A broken file in the directory is exit 78 with its file and line, before anyone uses it."""
    workspace.recipe("good", GOOD)
    path = workspace.recipe(
        "broken",
        GOOD.replace("service: good", "service: broken").replace(
            "https://api.example.com", "http://api.example.com"
        ),
    )

    ran = check(workspace)

    assert ran.code == 78
    assert f"fail  recipe broken ({path}): {path}:4: base_url:" in ran.stdout
    assert "plain http" in ran.stdout
