"""Validating a marked YAML document against a JSON Schema, one line per problem.

The other half of ``yamlmarks``: that module loads YAML keeping every
value's line; this one checks the values with jsonschema and turns each
violation into ``config.yaml:14: tokens[0].policies: expected a list``
instead of a bare jsonschema message (a schema may carry its own wording in
``x-message``). Its own room because it is all about jsonschema's errors,
which loading never sees. The error class is a parameter, as in
``yamlmarks``, so the config reports ``ConfigError`` and recipes
``RecipeError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from renewer.errors import ConfigInvalid
from renewer.yamlmarks import Document, YamlPath

_MAX_REPORTED = 6


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    return type(value).__name__


def _expected_types(expected: Any) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    return " or ".join(_TYPE_WORDS.get(name, name) for name in names)


def explain(error: Any) -> tuple[YamlPath, str]:
    """One jsonschema ``ValidationError`` → (path of the offending value, message)."""
    path: YamlPath = tuple(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    custom = schema.get("x-message") if isinstance(schema, Mapping) else None
    if kind == "type":
        return (
            path,
            f"expected {_expected_types(error.validator_value)}, got {_describe(error.instance)}",
        )
    if kind == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        return path, "missing required key " + ", ".join(repr(name) for name in missing)
    if kind == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(known))
        allowed = f" (allowed: {', '.join(known)})" if known else ""
        return (
            *path,
            extra[0],
        ) if extra else path, f"unknown key {extra[0]!r}{allowed}" if extra else error.message
    if kind == "enum":
        options = ", ".join(repr(option) for option in error.validator_value)
        return path, f"must be one of {options}, got {error.instance!r}"
    if kind in {"minItems", "minLength"} and not error.instance:
        return path, "must not be empty"
    if custom:
        if kind in {"anyOf", "oneOf", "pattern", "const"}:
            return path, f"{custom}, got {error.instance!r}"
        return path, str(custom)
    return path, error.message


def validate(document: Document, schema: Mapping[str, Any], *, error: type[ConfigInvalid]) -> None:
    """Raise *error* listing every schema violation in *document*, ordered by line."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    problems: list[tuple[int, str]] = []
    for violation in validator.iter_errors(document.data):
        leaf = _deepest(violation)
        path, message = explain(leaf)
        problems.append((document.line(path) or 0, f"{document.where(path)}: {message}"))
    if not problems:
        return
    problems.sort()
    lines = [text for _, text in problems[:_MAX_REPORTED]]
    if len(problems) > _MAX_REPORTED:
        lines.append(f"... and {len(problems) - _MAX_REPORTED} more")
    raise error("\n".join(lines))


def _deepest(violation: Any) -> Any:
    """For oneOf/anyOf, the sub-error that got furthest is the one a person needs."""
    custom = isinstance(violation.schema, Mapping) and "x-message" in violation.schema
    if violation.validator in {"oneOf", "anyOf"} and violation.context and not custom:
        from jsonschema.exceptions import best_match

        return best_match(violation.context)
    return violation
