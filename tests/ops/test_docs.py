"""docs/configuration.md documents every key renewer.config accepts (and no stale ones)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from renewer.config import SCHEMA
from renewer.credentials import schema as credentials_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def leaves(schema: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of an object schema, descending into objects (not maps or lists)."""
    found = []
    for key, sub in schema.get("properties", {}).items():
        if sub.get("type") == "object" and "properties" in sub:
            found += leaves(sub, f"{prefix}{key}.")
        else:
            found.append(prefix + key)
    return found


def sections() -> dict[str, set[str]]:
    """Heading → the keys in the first column of its table rows."""
    found: dict[str, set[str]] = {}
    current = ""
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            found[current] = set()
        elif line.startswith("| `") and current:
            found[current].update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return found


def test_every_config_key_is_documented_where_it_belongs() -> None:
    documented = sections()
    expected: dict[str, set[str]] = {"Top level": set()}
    for key, sub in SCHEMA["properties"].items():
        expected["Top level"].add(key)
        if key in credentials_schema.SCHEMA:
            continue  # documented in docs/credentials.md
        if sub.get("type") == "object" and "properties" in sub:
            expected[f"`{key}`"] = set(leaves(sub))
        elif sub.get("type") == "array" and "properties" in sub.get("items", {}):
            expected[f"`{key}[]`"] = set(leaves(sub["items"]))
    for heading, keys in expected.items():
        assert heading in documented, f"no section {heading!r}"
        assert documented[heading] == keys, heading


def test_the_credentials_keys_point_at_their_own_page() -> None:
    text = DOC.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `credentials`"))
    assert "(credentials.md)" in row
