"""Recipes: one YAML file per service saying how to call it and inject its credential.

Design: product.md §3, seed 004 §4–5. :mod:`.loader` finds and merges them,
:mod:`.checks` judges what a schema cannot, :mod:`.model` holds the resolved
values, ``schema.json`` is the shipped schema, ``builtin/`` the recipes that
come with renewer.
"""

from __future__ import annotations

from renewer.recipes.checks import check_recipe
from renewer.recipes.loader import BUILTIN_DIR, RecipeCatalog, recipe_names
from renewer.recipes.model import Recipe
from renewer.recipes.parts import InjectSpec, OAuthSpec, SecretField, TestSpec

__all__ = [
    "BUILTIN_DIR",
    "InjectSpec",
    "OAuthSpec",
    "Recipe",
    "RecipeCatalog",
    "SecretField",
    "TestSpec",
    "check_recipe",
    "recipe_names",
]
