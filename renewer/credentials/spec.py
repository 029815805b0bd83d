"""Configuration of the primitive layer: the ``credentials``, ``secrets`` and ``recipes`` keys.

Placeholder until the primitive layer lands: the keys are accepted as empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from renewer.yamlmarks import Document

SCHEMA: dict[str, Any] = {
    "credentials": {"type": "array", "maxItems": 0},
    "secrets": {"type": "object"},
    "recipes": {"type": "object"},
}


@dataclass(frozen=True, slots=True)
class CredentialsSection:
    """Everything the primitive layer needs from the config."""

    credentials: tuple[Any, ...] = ()


def parse(document: Document, *, environ: dict[str, str], home: str) -> CredentialsSection:
    """Build the section from a schema-valid *document*."""
    return CredentialsSection()
