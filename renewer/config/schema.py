"""The config file's JSON Schema: every key renewer accepts, and the message for each mistake.

Its own room because it is data, not code: docs/configuration.md is checked
against it (tests/ops/test_docs.py), and the validation cache digests it.
The credentials: section's schema lives with the credential feature and is
merged in here.
"""

from __future__ import annotations

from typing import Any

from renewer.core.model import SweepMode
from renewer.credentials import schema as credentials_schema

CONFIG_VERSION = 1
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
DURATION_PATTERN = r"^\s*(\d+|(\d+[smhd])+)\s*$"

_NAME = {
    "type": "string",
    "pattern": NAME_PATTERN,
    "x-message": "expected a name of letters, digits, '.', '_' or '-'",
}
_DURATION = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": DURATION_PATTERN},
    ],
    "x-message": "expected a duration like 768h, 32d, 1h30m or 90 (seconds)",
}
_POLICIES = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_PATH = {"type": "string", "minLength": 1}
_ROTATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "type"],
    "properties": {
        "name": _NAME,
        "type": {"enum": ["vault-token", "approle", "static"]},
        "token": _NAME,
        "credential": _NAME,
        "field": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9_-]+$",
            "x-message": "expected a field name of the credential's secret",
        },
        "webhook": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url", "kind"],
            "properties": {
                "url": {
                    "type": "string",
                    "pattern": "^https?://",
                    "x-message": "expected an http(s) URL",
                },
                "kind": {"enum": ["github", "slack"]},
            },
        },
        "hook": {
            "type": "object",
            "additionalProperties": False,
            "required": ["command"],
            "properties": {
                "command": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1},
                    "minItems": 1,
                },
                "template": _PATH,
                "timeout": _DURATION,
            },
        },
        "register": {
            "type": "object",
            "additionalProperties": False,
            "required": ["credential"],
            "properties": {"credential": _NAME},
        },
        "schedule": {"type": "string", "minLength": 1},
        "timezone": {"type": "string", "minLength": 1},
        "every": _DURATION,
        "grace": _DURATION,
        "retry_after": _DURATION,
        "check": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "check_timeout": _DURATION,
        "role": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$",
            "x-message": "expected an AppRole role name",
        },
        "mount": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$",
            "x-message": "expected an auth mount path like approle",
        },
        "role_id_file": _PATH,
        "secret_id_file": _PATH,
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {"const": CONFIG_VERSION, "x-message": f"expected version: {CONFIG_VERSION}"},
        "vault": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "addr": {"type": "string", "minLength": 1},
                "ca_cert": {"type": "string", "minLength": 1},
                "connect_timeout": _DURATION,
                "read_timeout": _DURATION,
                "allow_insecure_http": {"type": "boolean"},
            },
        },
        "state_dir": {"type": "string", "minLength": 1},
        "run": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "deadline": _DURATION,
                "lock_timeout": _DURATION,
                "interval": _DURATION,
                "sweep_concurrency": {"type": "integer", "minimum": 1, "maximum": 64},
                "sweep_max_accessors": {"type": "integer", "minimum": 1},
                "retry": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "first": _DURATION,
                        "max_delay": _DURATION,
                        "attempts": {"type": "integer", "minimum": 0, "maximum": 100},
                    },
                },
            },
        },
        "tokens": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "path", "expect", "mint"],
                "properties": {
                    "name": _NAME,
                    "path": {"type": "string", "minLength": 1},
                    "expect": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["display_name", "policies"],
                        "properties": {
                            "display_name": {"type": "string", "minLength": 1},
                            "policies": _POLICIES,
                        },
                    },
                    "mint": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["display_name", "policies", "period"],
                        "properties": {
                            "display_name": {"type": "string", "minLength": 1},
                            "policies": _POLICIES,
                            "period": _DURATION,
                            "explicit_max_ttl": _DURATION,
                            "meta": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    },
                    "sweep": {"enum": [mode.value for mode in SweepMode]},
                    "login": {"type": "string", "minLength": 1, "pattern": r"^[^\n]*$"},
                },
            },
        },
        "metrics": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"textfile": {"type": "string", "minLength": 1}},
        },
        "notify": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "webhook": {
                    "type": "string",
                    "pattern": "^https?://",
                    "x-message": "expected an http(s) URL",
                },
                "timeout": _DURATION,
            },
        },
        "rotations": {"type": "array", "items": _ROTATION},
        **credentials_schema.SCHEMA,
    },
}
