"""Hypothesis-generated hostile input through the real CLI: configs, recipes, token files.

The loaders are fuzzed on their own elsewhere (tests/adapters/test_config.py,
tests/credentials/test_recipes.py); here whole documents go through
``renewer check``, ``renewer run --dry-run``, ``renewer creds list`` and
``renewer run``, in this process against the dev server, and what must hold
is what a user sees: an exit code of 0, 1, 75 or 78, never a traceback and
never "internal error", and nothing damaged (the token file byte-identical).

Documents are a full valid config (token sink, credentials with sinks and
hooks, rotations, metrics) or recipe, with one to three nodes replaced by
hostile values or removed, or their text cut and spliced.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewer.cli import run_cli
from tests import leakguard
from tests.integration.conftest import World
from tests.reliability import budget, tally

FUZZ = settings(
    max_examples=budget.scaled(40, 1000),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ALLOWED = {0, 1, 75, 78}

HOSTILE = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**65), max_value=2**65)
    | st.floats(allow_nan=True)
    | st.sampled_from(
        [
            "",
            "~",
            "/",
            "/dev/zero",
            "../../etc/passwd",
            "768h",
            "-1s",
            "99999999999d",
            "{{secret.api_key}}",
            "{{runtime.access_token}}",
            "http://169.254.169.254/latest",
            "\x00",
            "é" * 40,
            "* * * * *",
            "61 25 * * *",
        ]
    )
    | st.text(max_size=12)
    | st.lists(st.text(max_size=4), max_size=3)
    | st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)
)

RECIPE = """\
service: fuzzapi
version: 1
primitive: static_key
base_url: {url}
required_secrets:
  - key: api_key
    label: API key
inject:
  header:
    Authorization: "Bearer {{{{secret.api_key}}}}"
test:
  method: GET
  path: /header
  expect_status: 200
"""


def full_config(world: World) -> dict[str, Any]:
    """The world's config plus a credential (sinks, hook), two rotations and metrics."""
    document: dict[str, Any] = yaml.safe_load(world.write_config().read_text())
    document["recipes"] = {"dirs": [str(world.home / "recipes")]}
    document["credentials"] = [
        {
            "name": "fuzz",
            "recipe": "fuzzapi",
            "secret": "fuzzapi/main",
            "refresh_at": 0.66,
            "test": "never",
            "sinks": [
                {"type": "file", "path": str(world.home / "out" / "key")},
                {"type": "env", "path": str(world.home / "out" / "env"), "vars": {"K": "x"}},
            ],
            "hooks": [{"command": ["true"], "timeout": 5}],
        }
    ]
    document["rotations"] = [
        {"name": "tok", "type": "vault-token", "token": "devvm", "every": "30d", "grace": "1h"},
        {
            "name": "hooks",
            "type": "static",
            "credential": "fuzz",
            "field": "api_key",
            "schedule": "0 2 * * 0",
            "timezone": "Asia/Tokyo",
            "grace": "1h",
        },
    ]
    document["metrics"] = {"textfile": str(world.home / "metrics" / "renewer.prom")}
    return document


def paths_of(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path in a YAML document."""
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        yield (*prefix, key)
        yield from paths_of(value, (*prefix, key))


def mutate(document: Any, path: tuple[Any, ...], value: Any, *, remove: bool) -> Any:
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if remove and isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value
    return document


@st.composite
def mutated_documents(draw: st.DrawFn, base: dict[str, Any]) -> str:
    document = yaml.safe_load(yaml.safe_dump(base))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(paths_of(document))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        document = mutate(document, path, draw(HOSTILE), remove=draw(st.booleans()))
    text = yaml.safe_dump(document, allow_unicode=True)
    if draw(st.integers(min_value=0, max_value=4)) == 0:  # sometimes cut or splice the text
        cut = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:cut] + draw(st.text(max_size=10)) + text[cut + draw(st.integers(0, 5)) :]
    return text


def cli(world: World, config: Path, *args: str) -> tuple[int, str]:
    """The real CLI in this process with *config*; returns the code and everything printed."""
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ["HOME"] = str(world.home)
    os.environ.pop("VAULT_TOKEN", None)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run_cli(["--config", str(config), "--log-format", "json", *args])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    leakguard.scan("fuzzed cli", out.getvalue() + err.getvalue())
    return code, out.getvalue() + err.getvalue()


def assert_clean(code: int, output: str) -> None:
    assert code in ALLOWED, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert "internal error" not in output, output[-3000:]


@pytest.fixture
def fuzz_world(world: World) -> World:
    world.deadline = "3s"
    world.read_timeout = "1s"
    world.write(world.mint_ours())
    (world.home / "recipes").mkdir()
    (world.home / "recipes" / "fuzzapi.yaml").write_text(RECIPE.format(url="http://127.0.0.1:9"))
    return world


@pytest.mark.floor(3)
@FUZZ
@given(data=st.data())
def test_any_config_ends_in_a_clear_exit_code(fuzz_world: World, data: st.DataObject) -> None:
    """Mutated configs through check, run --dry-run and status: 0/1/75/78, no traceback."""
    world = fuzz_world
    text = data.draw(mutated_documents(full_config(world)))
    command = data.draw(st.sampled_from([("check",), ("run", "--dry-run"), ("status",)]))
    token = world.sink.read_bytes()
    path = world.home / "fuzz-config.yaml"
    path.write_text(text)

    code, output = cli(world, path, *command)

    assert_clean(code, output)
    assert world.sink.read_bytes() == token
    tally.record("fuzz/config")


@pytest.mark.floor(3)
@FUZZ
@given(data=st.data())
def test_any_recipe_ends_in_a_clear_exit_code(fuzz_world: World, data: st.DataObject) -> None:
    """Mutated user recipes through creds list and check: 0/1/75/78, no traceback."""
    world = fuzz_world
    recipe = yaml.safe_load(RECIPE.format(url="http://127.0.0.1:9"))
    recipe["extends"] = data.draw(st.sampled_from(["notion", "_google_base", None]))
    recipe = {key: value for key, value in recipe.items() if value is not None}
    text = data.draw(mutated_documents(recipe))
    (world.home / "recipes" / "fuzzapi.yaml").write_text(text)
    config = world.home / "fuzz-config.yaml"
    config.write_text(yaml.safe_dump(full_config(world)))
    command = data.draw(st.sampled_from([("creds", "list"), ("check",)]))

    code, output = cli(world, config, *command)

    assert_clean(code, output)
    tally.record("fuzz/recipe")


@pytest.mark.floor(1, 2, 3)
@FUZZ
@given(
    content=st.binary(max_size=300)
    | st.text(max_size=60).map(str.encode)
    | st.sampled_from([b"", b"\n", b"\xef\xbb\xbf", b"None", b"null", b'{"token": "hvs.'])
)
def test_any_token_file_content_is_refused_or_judged_by_vault_and_kept(
    fuzz_world: World, content: bytes
) -> None:
    """Random bytes in the token file: exit 1 (refused, or Vault says invalid), file unchanged."""
    world = fuzz_world
    world.sink.write_bytes(content)
    world.sink.chmod(0o600)

    code, output = cli(world, world.write_config(), "run")

    assert_clean(code, output)
    assert code == 1, output[-2000:]
    assert world.sink.read_bytes() == content
    tally.record("fuzz/token-file")
