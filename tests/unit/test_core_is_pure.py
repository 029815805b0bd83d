"""renewer/core (and the template renderer) import the stdlib and renewer.core only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "renewer"
PURE = [*sorted((ROOT / "core").glob("*.py")), ROOT / "template.py"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


class TestPurity:
    @pytest.mark.parametrize("path", PURE, ids=lambda p: p.name)
    def test_module_imports_only_stdlib_and_core(self, path: Path) -> None:
        """No requests, yaml, structlog or renewer I/O modules in the pure core."""
        foreign = {
            name
            for name in imported_modules(path)
            if name.split(".")[0] not in sys.stdlib_module_names
            and not name.startswith("renewer.core")
            and name != "__future__"
        }

        assert foreign == set()
