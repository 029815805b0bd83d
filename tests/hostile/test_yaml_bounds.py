"""Every YAML renewer reads is bounded: size, alias expansion, self-reference, odd scalars.

The alias bomb of issue 20 (nine nested ``&a [*a ×9]`` anchors, a few hundred
bytes) made ``renewer recipes list`` use 4.9 GB. These tests run the real CLI in
a child process under a 1 GiB address-space limit, so a regression fails with
a MemoryError or a kill instead of swapping the machine; the property pins the
exact rule: a document loads when its expanded size is within
``MAX_VALUES`` and is refused, naming file and line, when it is not.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renewer.errors import ConfigError, RecipeError
from renewer.yamlmarks import MAX_VALUES, load_text

ADDRESS_SPACE = 1 << 30


def bomb(levels: int, fan_out: int = 9) -> str:
    """The billion-laughs document: each level lists the previous one *fan_out* times."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * fan_out) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * fan_out) + "]")
    return "\n".join(lines) + "\n"


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def renewer(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed CLI in a child with at most 1 GiB of address space."""
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "renewer", "--log-format", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=_limited,
        check=False,
        timeout=120,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / ".config" / "renewer" / "recipes").mkdir(parents=True)
    return tmp_path


def test_an_alias_bomb_recipe_is_listed_as_invalid_not_expanded(home: Path) -> None:
    """``recipes list`` shows the bomb as INVALID, with file, line and the reason."""
    recipe = home / ".config" / "renewer" / "recipes" / "bomb.yaml"
    recipe.write_text("service: bomb\n" + bomb(9))

    ran = renewer(home, "recipes", "list")

    assert ran.returncode == 0, ran.stderr
    row = next(line for line in ran.stdout.splitlines() if line.startswith("bomb "))
    assert f"INVALID: {recipe}:" in row
    assert "aliases (*name) are expanded" in row


def test_an_alias_bomb_config_is_refused_with_exit_78(home: Path) -> None:
    """The config goes through the same loader: ``renewer check`` exits 78 naming the file."""
    config = home / ".config" / "renewer" / "config.yaml"
    config.write_text("vault:\n  addr: http://127.0.0.1:1\n" + bomb(9))

    ran = renewer(home, "check")

    assert ran.returncode == 78, ran.stderr
    assert f"error: {config}:" in ran.stderr
    assert "alias bomb" in ran.stderr
    assert "internal error" not in ran.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: &a [*a]\n", "refers to a value that contains it"),
        ("a: &a {b: *a}\n", "refers to a value that contains it"),
        ("a: " + "1" * 5000 + "\n", "cannot read this value"),
        ("a: 2001-13-45\n", "cannot read this value (month must be in 1..12)"),
    ],
    ids=["self-list", "self-map", "5000-digit-int", "month-13"],
)
def test_values_python_cannot_build_are_config_errors_with_a_line(text: str, words: str) -> None:
    """A cycle or an unbuildable scalar is a ConfigError at its line, never a traceback."""
    with pytest.raises(ConfigError) as caught:
        load_text("x: 1\n" + text, source="c.yaml", error=ConfigError)

    assert str(caught.value).startswith("c.yaml:2: a")
    assert words in str(caught.value)


def test_a_few_anchors_for_repeated_settings_still_load() -> None:
    """Anchors are legitimate YAML: a shared policy list is expanded as written."""
    text = "common: &p [default, dev]\ntokens:\n  - policies: *p\n  - policies: *p\n"

    document = load_text(text, source="c.yaml", error=RecipeError)

    assert document.data["tokens"] == [{"policies": ["default", "dev"]}] * 2


def expanded_size(levels: int, fan_out: int) -> int:
    """Values the converter builds for :func:`bomb`: the root, each key's list, the items."""
    total = 1
    for level in range(levels):
        total += sum(fan_out**depth for depth in range(level + 2))
    return total


@settings(max_examples=60, deadline=None)
@given(levels=st.integers(min_value=1, max_value=12), fan_out=st.integers(1, 12))
def test_a_document_loads_exactly_when_its_expansion_fits(levels: int, fan_out: int) -> None:
    """Within MAX_VALUES it loads in full; beyond, a RecipeError naming the file and a line."""
    size = expanded_size(levels, fan_out)
    if size <= MAX_VALUES:
        document = load_text(bomb(levels, fan_out), source="r.yaml", error=RecipeError)
        assert len(document.data) == levels
    else:
        with pytest.raises(RecipeError, match=r"^r\.yaml:\d+: a\d+.*alias bomb"):
            load_text(bomb(levels, fan_out), source="r.yaml", error=RecipeError)
