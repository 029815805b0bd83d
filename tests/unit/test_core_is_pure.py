"""renewer.core (and the template renderer) import nothing but the stdlib and renewer.core."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "renewer"
CORE = ROOT / "core"
PURE = [*sorted(CORE.glob("*.py")), ROOT / "template.py"]
FORBIDDEN_CALLS = {"open", "print", "input"}


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(
                node.module if node.module.startswith("renewer") else node.module.split(".")[0]
            )
    return names


class TestCorePurity:
    def test_core_imports_only_stdlib_and_core(self) -> None:
        """No hvac, requests, yaml, structlog, os or time in the pure core."""
        allowed_stdlib = set(sys.stdlib_module_names) - {
            "os",
            "time",
            "socket",
            "subprocess",
            "random",
        }
        for path in PURE:
            for name in _imports(ast.parse(path.read_text())):
                if name.startswith("renewer"):
                    assert name.startswith("renewer.core"), f"{path.name} imports {name}"
                else:
                    assert name in allowed_stdlib or name == "__future__", (
                        f"{path.name} imports {name}"
                    )

    def test_core_never_calls_open_or_print(self) -> None:
        """I/O stays in the shell."""
        for path in PURE:
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    assert node.func.id not in FORBIDDEN_CALLS, (
                        f"{path.name} calls {node.func.id}()"
                    )


ROTATION = CORE.parent / "rotation"
PURE_ROTATION = {
    "machine.py": set(),
    "events.py": set(),
    "actions.py": set(),
    "schedule.py": {"croniter"},
}


class TestRotationPurity:
    def test_machine_and_schedule_import_no_io(self) -> None:
        """The rotation machine is stdlib only; the schedule adds croniter, nothing else."""
        forbidden = {"os", "time", "socket", "subprocess", "random", "pathlib", "shutil"}
        pure = {f"renewer.rotation.{name.removesuffix('.py')}" for name in PURE_ROTATION}
        for name, extra in PURE_ROTATION.items():
            path = ROTATION / name
            for imported in _imports(ast.parse(path.read_text())):
                if imported.startswith("renewer"):
                    assert imported.startswith("renewer.core") or imported in pure, (
                        f"{name} imports {imported}"
                    )
                    continue
                allowed = (set(sys.stdlib_module_names) - forbidden) | extra | {"__future__"}
                assert imported in allowed, f"{name} imports {imported}"

    def test_machine_and_schedule_never_call_open_or_print(self) -> None:
        """No I/O hides in a call either."""
        for name in PURE_ROTATION:
            for node in ast.walk(ast.parse((ROTATION / name).read_text())):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    assert node.func.id not in FORBIDDEN_CALLS, f"{name} calls {node.func.id}()"
