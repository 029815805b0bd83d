"""The JSON Schema of the ``credentials``, ``secrets`` and ``recipes`` config keys.

Its own room because it is data: :mod:`renewer.config.schema` merges
:data:`SCHEMA` into the config schema, and docs/configuration.md is checked
against it. What a schema cannot express is checked in
:mod:`renewer.credentials.section`.
"""

from __future__ import annotations

from typing import Any

from renewer.secretstore.base import PART_PATTERN

STORES = ("local", "vault")
_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_RECIPE_PATTERN = r"^_?[a-z][a-z0-9_]{0,62}$"
# One schema with both types (not anyOf), so a bad string gets the duration
# message rather than "expected a whole number".
_DURATION = {
    "type": ["integer", "string"],
    "minimum": 1,
    "pattern": r"^\s*(\d+|(\d+[smhd])+)\s*$",
    "x-message": "expected a duration like 30s, 5m or 90 (seconds)",
}
_PATH = {"type": "string", "minLength": 1}
SINK_TYPES = ("file", "env", "aws_profile", "pem_bundle", "cert_dir")
_NO_TEMPLATES = {
    "not": {"anyOf": [{"required": ["value"]}, {"required": ["vars"]}]},
}
_SINK = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "path"],
    "properties": {
        "type": {"enum": list(SINK_TYPES)},
        "path": _PATH,
        "profile": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.@+=,-]{0,63}$",
            "x-message": "expected an AWS profile name like dev",
        },
        "value": {"type": "string", "minLength": 1},
        "vars": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {
                "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$",
                "x-message": "expected an environment variable name",
            },
            "additionalProperties": {"type": "string"},
        },
    },
    "allOf": [
        {
            "if": {"properties": {"type": {"const": "env"}}},
            "then": {
                "required": ["vars"],
                "not": {"required": ["value"]},
                "x-message": "an env sink takes vars (NAME: template), not value",
            },
        },
        {
            "if": {"properties": {"type": {"const": "file"}}},
            "then": {
                "not": {"required": ["vars"]},
                "x-message": "a file sink takes value (a template), not vars",
            },
        },
        {
            "if": {"properties": {"type": {"const": "aws_profile"}}},
            "then": {
                "required": ["profile"],
                **_NO_TEMPLATES,
                "x-message": "an aws_profile sink takes profile (the [name] to write), "
                "not value or vars",
            },
            "else": {
                "not": {"required": ["profile"]},
                "x-message": "only an aws_profile sink takes profile",
            },
        },
        {
            "if": {"properties": {"type": {"enum": ["pem_bundle", "cert_dir"]}}},
            "then": {
                **_NO_TEMPLATES,
                "x-message": "a pem_bundle or cert_dir sink writes the certificate set; "
                "it takes no value or vars",
            },
        },
    ],
}
_PKI = {
    "type": "object",
    "additionalProperties": False,
    "required": ["role", "common_name"],
    "properties": {
        "mount": {"type": "string", "minLength": 1},
        "role": {
            "type": "string",
            "pattern": r"^\w(?:[\w.@-]*\w)?$",
            "x-message": "expected a PKI role name",
        },
        "common_name": {"type": "string", "minLength": 1},
        "alt_names": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "ip_sans": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "ttl": _DURATION,
        "token": {"type": "string", "minLength": 1},
    },
}
_HOOK = {
    "type": "object",
    "additionalProperties": False,
    "required": ["command"],
    "properties": {
        "command": {
            "anyOf": [
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                {"type": "string", "minLength": 1},
            ],
            "x-message": "expected a command as a list of words (or a string with shell: true)",
        },
        "shell": {"type": "boolean"},
        "timeout": _DURATION,
    },
}

SCHEMA: dict[str, Any] = {
    "secrets": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "default_store": {"enum": list(STORES)},
            "local": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"dir": _PATH, "key_file": _PATH},
            },
            "vault": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "mount": {"type": "string", "minLength": 1},
                    "prefix": {"type": "string"},
                    "token": {"type": "string", "minLength": 1},
                },
            },
        },
    },
    "recipes": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "dirs": {"type": "array", "items": _PATH},
            "allow_domains": {
                "type": "array",
                "items": {
                    "type": "string",
                    "pattern": r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$",
                    "x-message": "expected a host name like auth.example.com",
                },
            },
        },
    },
    "credentials": {
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "recipe", "secret"],
            "properties": {
                "name": {
                    "type": "string",
                    "pattern": _NAME_PATTERN,
                    "x-message": "expected a name of letters, digits, '.', '_' or '-'",
                },
                "recipe": {
                    "type": "string",
                    "pattern": _RECIPE_PATTERN,
                    "x-message": "expected a recipe name like notion or github_oauth",
                },
                "secret": {
                    "type": "string",
                    "pattern": f"^{PART_PATTERN}/{PART_PATTERN}$",
                    "x-message": "expected service/instance",
                },
                "store": {"enum": list(STORES)},
                "refresh_at": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                "test": {"enum": ["after-refresh", "always", "never"]},
                "sinks": {"type": "array", "items": _SINK},
                "hooks": {"type": "array", "items": _HOOK},
                "pki": _PKI,
            },
        },
    },
}
