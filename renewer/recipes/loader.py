"""Recipes from the package and the user's directories: find, parse, extend, check.

A recipe file is named after its service (``notion.yaml`` holds ``service:
notion``), so finding a recipe never parses the others and one broken file
only breaks the credentials that use it. Precedence: the configured
directories in order, then the built-ins shipped in ``renewer/recipes/builtin``.
A user recipe may ``extends`` the very name it overrides: that means the
next one down (``notion.yaml`` with ``extends: notion`` in
``~/.config/renewer/recipes`` builds on the built-in ``notion``).

Checks, each reported as ``file:line: field: message`` (exit 78):

* every file alone against ``schema.json`` without its top-level
  ``required`` and ``allOf`` (a child may lean on its parent for those), the
  file name against ``service``, and ``version`` against what we know;
* ``extends``: the target exists, no cycles, at most 8 levels;
* the merged recipe against the whole schema, then
  :func:`~renewer.recipes.checks.check_recipe`: templates name declared
  secrets, defined constants and runtime values the primitive has; OAuth2
  recipes declare their client; every URL a secret travels to stays on the
  service's domain unless allowlisted (seed §11).

Abstract recipes (``_`` prefix) are merged and partially checked, shown by
``recipes show``, but never usable by a credential.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from renewer.core.merge import deep_merge, plain
from renewer.errors import RecipeError
from renewer.recipes.checks import check_recipe
from renewer.recipes.model import Recipe
from renewer.yamlmarks import Append, Document, YamlPath, load_file
from renewer.yamlschema import explain, validate

BUILTIN_DIR = Path(__file__).with_name("builtin")
SCHEMA_PATH = Path(__file__).with_name("schema.json")
SUPPORTED_VERSIONS = frozenset({1})
MAX_EXTENDS_DEPTH = 8
_SUFFIXES = (".yaml", ".yml")
_MAX_REPORTED = 6
_ALLOW_HINT = "if that host really belongs to the service, add it to recipes.allow_domains"


@functools.cache
def recipe_schema() -> Mapping[str, Any]:
    """The shipped JSON Schema of a whole recipe."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@functools.cache
def file_schema() -> Mapping[str, Any]:
    """The schema one file of an ``extends`` chain must meet on its own."""
    schema = {key: value for key, value in recipe_schema().items() if key != "allOf"}
    schema["required"] = ["service", "version"]
    return schema


@dataclass(frozen=True, slots=True)
class RecipeFile:
    """Where one recipe for *service* lives."""

    service: str
    path: Path
    origin: str  # "user" or "built-in"


def _yaml_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(directory.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    except PermissionError as exc:
        raise RecipeError(f"{directory}: cannot list recipes: {exc.strerror}") from None
    return [
        path
        for path in entries
        if path.suffix in _SUFFIXES and not path.name.startswith(".") and path.is_file()
    ]


def scan(
    dirs: Sequence[Path], *, builtin_dir: Path = BUILTIN_DIR
) -> dict[str, tuple[RecipeFile, ...]]:
    """Recipe files by service name, highest precedence first."""
    found: dict[str, list[RecipeFile]] = {}
    places = [*((directory, "user") for directory in dirs), (builtin_dir, "built-in")]
    for directory, origin in places:
        for path in _yaml_files(directory):
            found.setdefault(path.stem, []).append(RecipeFile(path.stem, path, origin))
    return {name: tuple(files) for name, files in sorted(found.items())}


class RecipeCatalog:
    """The recipes visible with a given configuration; resolves each on demand, once."""

    def __init__(
        self,
        dirs: Sequence[Path] = (),
        *,
        allow_domains: Collection[str] = (),
        builtin_dir: Path = BUILTIN_DIR,
    ) -> None:
        self.dirs = tuple(dirs)
        self.allow_domains = tuple(allow_domains)
        self.files = scan(self.dirs, builtin_dir=builtin_dir)
        self._documents: dict[Path, Document] = {}
        self._resolved: dict[str, Recipe] = {}

    def names(self) -> tuple[str, ...]:
        """Every service name, abstract ones included, sorted."""
        return tuple(self.files)

    def source(self, service: str) -> RecipeFile | None:
        """The file that defines *service* (the highest-precedence one)."""
        files = self.files.get(service)
        return files[0] if files else None

    def usable(self, service: str) -> Recipe:
        """:meth:`resolve`, refusing abstract recipes: what a credential may use."""
        recipe = self.resolve(service)
        if recipe.abstract:
            raise RecipeError(
                f"recipe {service!r} is abstract (its name starts with '_'): "
                "it exists to be extended, not used",
                hint=f"write a recipe with 'extends: {service}' and use that",
            )
        return recipe

    def resolve(self, service: str) -> Recipe:
        """The recipe *service* after ``extends`` and every check; raise :class:`RecipeError`."""
        if service in self._resolved:
            return self._resolved[service]
        if service not in self.files:
            known = ", ".join(name for name in self.files if not name.startswith("_"))
            raise RecipeError(
                f"no recipe named {service!r} (known: {known or 'none'})",
                hint="see `renewer recipes list`; user recipes live in "
                + (", ".join(str(d) for d in self.dirs) or "the recipes.dirs directories"),
            )
        data, chain = self._merge(service, 0, (), None)
        recipe = self._finish(data, chain)
        self._resolved[service] = recipe
        return recipe

    def _document(self, file: RecipeFile) -> Document:
        if file.path in self._documents:
            return self._documents[file.path]
        siblings = [f for f in self.files[file.service] if f.path.parent == file.path.parent]
        if len(siblings) > 1:
            raise RecipeError(
                f"{file.path.parent}: two recipe files for {file.service!r}: "
                + ", ".join(f.path.name for f in siblings),
                hint="keep one of them",
            )
        document = load_file(file.path, error=RecipeError)
        if document.data is None:
            raise RecipeError(f"{file.path}: the file is empty")
        validate(document, file_schema(), error=RecipeError)
        data = document.data
        if data["service"] != file.service:
            raise RecipeError(
                f"{document.where(('service',))}: {data['service']!r} does not match the file "
                f"name {file.path.name!r}; a recipe file is named after its service"
            )
        if data["version"] not in SUPPORTED_VERSIONS:
            known = ", ".join(str(v) for v in sorted(SUPPORTED_VERSIONS))
            raise RecipeError(
                f"{document.where(('version',))}: recipe format version {data['version']} is "
                f"not one this renewer understands ({known})",
                hint="upgrade renewer, or write the recipe in a version it knows",
            )
        self._documents[file.path] = document
        return document

    def _merge(
        self,
        service: str,
        level: int,
        seen: tuple[tuple[str, int], ...],
        referrer: Document | None,
    ) -> tuple[dict[str, Any], tuple[Document, ...]]:
        files = self.files.get(service, ())
        if level >= len(files):
            where = referrer.where(("extends",)) if referrer else service
            below = " below the overriding one" if level else ""
            raise RecipeError(f"{where}: no recipe named {service!r}{below} to extend")
        if (service, level) in seen:
            names = " → ".join(name for name, _ in (*seen, (service, level)))
            raise RecipeError(
                f"{referrer.where(('extends',)) if referrer else service}: "
                f"extends makes a cycle: {names}"
            )
        if len(seen) >= MAX_EXTENDS_DEPTH:
            raise RecipeError(
                f"{referrer.where(('extends',)) if referrer else service}: "
                f"extends is nested more than {MAX_EXTENDS_DEPTH} levels deep"
            )
        document = self._document(files[level])
        data: dict[str, Any] = document.data
        parent = data.get("extends")
        if parent is None:
            return plain(data), (document,)
        parent_level = level + 1 if parent == service else 0
        parent_data, chain = self._merge(parent, parent_level, (*seen, (service, level)), document)
        own = {key: value for key, value in data.items() if key != "extends"}
        merged = deep_merge(parent_data, own, is_append=lambda value: isinstance(value, Append))
        return merged, (document, *chain)

    def _finish(self, data: dict[str, Any], chain: tuple[Document, ...]) -> Recipe:
        sources = tuple(document.source for document in chain)
        if str(data["service"]).startswith("_"):
            return Recipe.from_data(data, sources=sources)
        _validate_merged(data, chain)
        recipe = Recipe.from_data(data, sources=sources)
        problems = check_recipe(recipe, allow_domains=self.allow_domains)
        if problems:
            lines = [f"{where(chain, path)}: {message}" for path, message in problems]
            hint = _ALLOW_HINT if any("allowlisted" in message for _, message in problems) else ""
            raise RecipeError(_join(lines), hint=hint)
        return recipe


def where(chain: Sequence[Document], path: Sequence[str | int]) -> str:
    """``file:line: field`` from the file of *chain* that defines the most of *path*."""

    def depth(document: Document) -> int:
        for size in range(len(path), -1, -1):
            if tuple(path[:size]) in document.lines:
                return size
        return -1

    best = max(chain, key=depth)  # max keeps the first (the child) on ties
    return best.where(path)


def _join(lines: list[str]) -> str:
    shown = lines[:_MAX_REPORTED]
    if len(lines) > _MAX_REPORTED:
        shown.append(f"... and {len(lines) - _MAX_REPORTED} more")
    return "\n".join(shown)


def _validate_merged(data: Mapping[str, Any], chain: Sequence[Document]) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    problems: list[str] = []
    for violation in Draft202012Validator(recipe_schema()).iter_errors(data):
        leaf = best_match(violation.context) if violation.context else violation
        path: YamlPath
        path, message = explain(leaf)
        problems.append(f"{where(chain, path)}: {message}")
    if problems:
        raise RecipeError(_join(sorted(problems)))


def recipe_names(dirs: Sequence[Path], *, builtin_dir: Path = BUILTIN_DIR) -> frozenset[str]:
    """Every service name a credential could refer to, without parsing any file."""
    return frozenset(scan(dirs, builtin_dir=builtin_dir))
