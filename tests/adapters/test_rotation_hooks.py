"""Tests for renewer.rotation.hooks: templated argv without secrets, manifests, secret files."""

from __future__ import annotations

import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from renewer import redact
from renewer.core.secret import Secret
from renewer.rotation.hooks import (
    CHECK_PLACEHOLDERS,
    HOOK_PLACEHOLDERS,
    check_argv,
    placeholders,
    render_argv,
    render_manifest,
    run_command,
    secret_file,
)


class TestTemplates:
    def test_the_seed_hook_renders_to_an_argv_with_a_path(self) -> None:
        """`orchestrator apply -f {manifest}` gets a file path, never a value."""
        argv = ["orchestrator", "apply", "-f", "{manifest}"]
        check_argv(argv, HOOK_PLACEHOLDERS)
        assert render_argv(argv, {"manifest": "/state/.m.renewer-tmp.1.ab"}) == [
            "orchestrator",
            "apply",
            "-f",
            "/state/.m.renewer-tmp.1.ab",
        ]

    def test_doubled_braces_are_literal(self) -> None:
        """JSON in an argument stays possible."""
        assert placeholders('{{"a": 1}} {name}') == {"name"}
        assert render_argv(['{{"n": "{name}"}}'], {"name": "ci"}) == ['{"n": "ci"}']

    @pytest.mark.parametrize(
        ("argument", "problem"),
        [
            ("{secret}", "unknown placeholder {secret}"),
            ("{name!r}", "not a plain placeholder"),
            ("{name:>5}", "not a plain placeholder"),
            ("{0}", "not a plain placeholder"),
            ("{oops", "item 1"),
        ],
    )
    def test_anything_but_a_known_plain_placeholder_is_refused(
        self, argument: str, problem: str
    ) -> None:
        """Placeholders are names of paths and names; a value can never be asked for."""
        with pytest.raises(ValueError, match=problem.replace("{", r"\{").replace("}", r"\}")):
            check_argv(["probe", argument], CHECK_PLACEHOLDERS)

    def test_a_manifest_template_gets_every_value(self) -> None:
        """`${current}` and `${previous}` fill the strings they stand in; YAML is written again."""
        template = 'keys: {current: "${current}", previous: "v-${previous}"}\n'
        values = {"current": Secret("new-value"), "previous": Secret("old-value")}
        assert render_manifest(template, values) == (
            b"keys:\n  current: new-value\n  previous: v-old-value\n"
        )

    def test_a_manifest_naming_an_absent_value_is_refused(self) -> None:
        """After the grace there is no previous value: the template must not ask for it."""
        with pytest.raises(ValueError, match=r"names \$\{previous\}, which has no value"):
            render_manifest("${current} ${previous}", {"current": Secret("x" * 8)})


class TestSecretFile:
    def test_it_exists_0600_during_the_block_and_not_after(self, tmp_path: Path) -> None:
        """The value reaches a command through a private file, removed at the end."""
        with secret_file(tmp_path / "state", b"value", label="credential") as path:
            assert path.read_bytes() == b"value"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert ".renewer-tmp." in path.name
        assert not path.exists()

    def test_it_is_removed_when_the_block_fails(self, tmp_path: Path) -> None:
        """No secret file outlives an error."""
        with pytest.raises(RuntimeError), secret_file(tmp_path, b"v", label="m") as path:
            raise RuntimeError("hook crashed")
        assert not path.exists()


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


class TestRunCommand:
    def test_exit_code_and_output_are_reported(self) -> None:
        """A failing check says what it printed."""
        result = run_command(
            python("print('nope'); raise SystemExit(3)"), timeout=10, env={"PATH": "/usr/bin"}
        )
        assert (result.ok, result.exit_code) == (False, 3)
        assert result.explain().endswith("exited 3: nope")

    def test_output_is_scrubbed_of_registered_secrets(
        self, make_secret: Callable[[str], str]
    ) -> None:
        """A check that echoes the credential does not put it in our logs."""
        value = make_secret("green")
        redact.register(value)
        result = run_command(python(f"print('{value}')"), timeout=10, env={})
        assert value not in result.output
        assert "[redacted]" in result.output

    def test_a_hung_command_is_stopped(self) -> None:
        """Bounded by its timeout."""
        result = run_command(python("import time; time.sleep(30)"), timeout=0.5, env={})
        assert result.exit_code is None
        assert "did not finish within 0.5s" in result.explain()

    def test_a_missing_program_is_a_result_not_a_traceback(self, tmp_path: Path) -> None:
        """Misconfigured checks fail validation cleanly."""
        result = run_command([str(tmp_path / "nope")], timeout=5, env={})
        assert not result.ok
        assert "cannot run it" in result.explain()
