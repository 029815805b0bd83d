"""Reading request fields with the leniency of Vault's ``framework.FieldData``.

Vault converts weakly: ``"true"`` is a bool, ``"3"`` an int, ``"a,b"`` a list
for comma-string-slice fields, a number a duration in seconds. A value it
cannot convert is a 400, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from renewer.devserver.durations import DurationError, parse_duration_second
from renewer.devserver.protocol import ApiError, bad_request

_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def _invalid(name: str, value: object) -> ApiError:
    return bad_request(f'error converting input {value!r} for field "{name}"')


def get_str(data: Mapping[str, Any], name: str, default: str = "") -> str:
    """A string field; numbers and bools are converted as Go's weak decode does."""
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str | int | float):
        return str(value)
    raise _invalid(name, value)


def get_bool(data: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """A bool field: JSON bools, 0/1, and Go's ``ParseBool`` strings."""
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str) and value in _TRUE:
        return True
    if isinstance(value, str) and value in _FALSE:
        return False
    raise _invalid(name, value)


def get_int(data: Mapping[str, Any], name: str, default: int = 0) -> int:
    """An int field; numeric strings are accepted."""
    value = data.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _invalid(name, value)


def get_duration(data: Mapping[str, Any], name: str) -> int:
    """A duration field in whole seconds (0 when absent)."""
    try:
        return parse_duration_second(data.get(name))
    except DurationError as exc:
        raise bad_request(str(exc)) from None


def get_str_list(data: Mapping[str, Any], name: str) -> list[str] | None:
    """A comma-string-slice field: a list of strings or ``"a,b"``. None when absent."""
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return [str(item) for item in value]
    raise _invalid(name, value)


def get_str_map(data: Mapping[str, Any], name: str) -> dict[str, str] | None:
    """A ``map[string]string`` field such as token ``meta``. None when absent."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"Error decoding request: '{name}' expected a map, got {value!r}")
    result: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, dict | list):
            raise bad_request(f"Error decoding request: '{name}[{key}]' expected a string")
        result[str(key)] = "" if item is None else get_str({"v": item}, "v")
    return result
