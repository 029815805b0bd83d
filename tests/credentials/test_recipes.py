"""Tests for renewer.recipes: built-ins, user overrides, extends, and every refusal."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renewer.errors import RecipeError
from renewer.recipes import BUILTIN_DIR, RecipeCatalog, recipe_names

FIXTURES = Path(__file__).parent.parent / "fixtures" / "recipes"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
BUILTINS = sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


class TestBuiltins:
    @pytest.mark.parametrize("service", BUILTINS)
    def test_every_builtin_resolves(self, service: str) -> None:
        """The shipped recipes pass every check, abstract ones included."""
        recipe = RecipeCatalog().resolve(service)

        assert recipe.service == service

    def test_required_builtins_are_shipped(self) -> None:
        """The issue's list of services is there."""
        assert {
            "openai",
            "notion",
            "stripe",
            "github",
            "github_oauth",
            "slack",
            "_google_base",
            "google_calendar",
            "aws_s3",
            "aws_sts",
            "aws_assume_role",
            "_mtls_base",
        } <= set(BUILTINS)

    def test_google_calendar_extends_the_abstract_base(self) -> None:
        """Objects merge, scalars override, !append tags follow the parent's."""
        recipe = RecipeCatalog().resolve("google_calendar")

        assert recipe.data["token_exchange"]["endpoint"] == "https://oauth2.googleapis.com/token"
        assert recipe.data["token_exchange"]["scopes"] == [
            "https://www.googleapis.com/auth/calendar"
        ]
        assert recipe.tags == ("google", "calendar")
        assert recipe.sources[1].endswith("_google_base.yaml")

    def test_abstract_recipe_is_not_usable(self) -> None:
        """_google_base exists to be extended."""
        with pytest.raises(RecipeError, match="abstract") as caught:
            RecipeCatalog().usable("_google_base")

        assert "extends: _google_base" in caught.value.hint

    def test_unknown_recipe_lists_the_known_ones(self) -> None:
        """A typo gets the list of names, abstract ones left out."""
        with pytest.raises(RecipeError, match="no recipe named 'notoin'") as caught:
            RecipeCatalog().resolve("notoin")

        assert "notion" in str(caught.value)
        assert "_google_base" not in str(caught.value)


class TestUserRecipes:
    def test_user_recipe_overrides_builtin_by_name(self, tmp_path: Path) -> None:
        """A notion.yaml in the user's directory replaces the built-in."""
        write(
            tmp_path,
            "notion",
            """\
            service: notion
            version: 1
            primitive: static_key
            base_url: http://127.0.0.1:9/v1
            required_secrets: [{key: token}]
            inject: {header: {Authorization: "Bearer {{secret.token}}"}}
            """,
        )

        recipe = RecipeCatalog([tmp_path]).resolve("notion")

        assert recipe.base_url == "http://127.0.0.1:9/v1"
        assert recipe.test is None

    def test_override_may_extend_the_builtin_it_replaces(self, tmp_path: Path) -> None:
        """extends: notion inside notion.yaml builds on the built-in notion."""
        write(
            tmp_path,
            "notion",
            """\
            extends: notion
            service: notion
            version: 1
            base_url: http://127.0.0.1:9/v1
            """,
        )

        recipe = RecipeCatalog([tmp_path]).resolve("notion")

        assert recipe.base_url == "http://127.0.0.1:9/v1"
        assert recipe.test is not None
        assert recipe.test.path == "/users/me"
        assert recipe.inject.header["Notion-Version"] == "{{const.notion_version}}"
        assert len(recipe.sources) == 2

    def test_earlier_directory_wins(self, tmp_path: Path) -> None:
        """Directories are searched in order, like PATH."""
        body = """\
            service: svc
            version: 1
            primitive: static_key
            base_url: {url}
            required_secrets: [{{key: token}}]
            inject: {{header: {{X: "{{{{secret.token}}}}"}}}}
            """
        write(tmp_path / "a", "svc", body.format(url="https://a.example.com"))
        write(tmp_path / "b", "svc", body.format(url="https://b.example.com"))

        catalog = RecipeCatalog([tmp_path / "a", tmp_path / "b"])

        assert catalog.resolve("svc").base_url == "https://a.example.com"

    def test_broken_recipe_breaks_only_itself(self, tmp_path: Path) -> None:
        """One bad file leaves every other recipe usable."""
        write(tmp_path, "broken", "service: broken\nversion: [\n")

        catalog = RecipeCatalog([tmp_path])

        assert catalog.resolve("notion").service == "notion"
        with pytest.raises(RecipeError, match="invalid YAML"):
            catalog.resolve("broken")
        assert "broken" in catalog.names()

    def test_extends_cycle_is_refused(self, tmp_path: Path) -> None:
        """a → b → a is named in the error."""
        write(tmp_path, "aaa", "extends: bbb\nservice: aaa\nversion: 1\n")
        write(tmp_path, "bbb", "extends: aaa\nservice: bbb\nversion: 1\n")

        with pytest.raises(RecipeError, match="cycle: aaa → bbb → aaa"):
            RecipeCatalog([tmp_path]).resolve("aaa")

    def test_two_files_for_one_service_in_a_directory_are_refused(self, tmp_path: Path) -> None:
        """svc.yaml and svc.yml side by side is ambiguous."""
        write(tmp_path, "svc", "service: svc\nversion: 1\n")
        (tmp_path / "svc.yml").write_text("service: svc\nversion: 1\n")

        with pytest.raises(RecipeError, match="two recipe files for 'svc'"):
            RecipeCatalog([tmp_path]).resolve("svc")

    def test_allowlisted_domain_lets_a_recipe_through(self, tmp_path: Path) -> None:
        """recipes.allow_domains admits a token host outside the base URL's site."""
        shutil.copy(FIXTURES / "bad" / "evil_token_url.yaml", tmp_path)

        recipe = RecipeCatalog([tmp_path], allow_domains=["example.net"]).resolve("evil_token_url")

        assert recipe.oauth is not None
        assert recipe.oauth.token_url.startswith("https://evil")

    def test_refusal_hints_at_the_allowlist(self, tmp_path: Path) -> None:
        """The person reading the refusal learns how to allow a legitimate host."""
        shutil.copy(FIXTURES / "bad" / "evil_token_url.yaml", tmp_path)

        with pytest.raises(RecipeError) as caught:
            RecipeCatalog([tmp_path]).resolve("evil_token_url")

        assert "recipes.allow_domains" in caught.value.hint
        assert caught.value.exit_code == 78

    def test_recipe_names_do_not_parse_files(self, tmp_path: Path) -> None:
        """Config checks see names even when a file is broken."""
        write(tmp_path, "broken", "::: not yaml")

        assert {"broken", "notion"} <= recipe_names([tmp_path])

    def test_missing_directory_is_no_error(self, tmp_path: Path) -> None:
        """The default user directory need not exist."""
        assert "notion" in RecipeCatalog([tmp_path / "absent"]).names()


class TestFixtures:
    @pytest.mark.parametrize(
        "path", sorted((FIXTURES / "good").glob("*.yaml")), ids=lambda p: p.stem
    )
    def test_good_fixture_resolves(self, path: Path, tmp_path: Path) -> None:
        """Each good fixture passes every check."""
        shutil.copy(path, tmp_path)

        assert RecipeCatalog([tmp_path]).usable(path.stem).service == path.stem

    @pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
    def test_bad_fixture_is_refused_with_file_line_field(self, path: Path, tmp_path: Path) -> None:
        """Each bad fixture names its file, line and field, and exits 78."""
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
        expected = expected.replace("{file}", str(copy))

        with pytest.raises(RecipeError) as caught:
            RecipeCatalog([tmp_path]).resolve(path.stem)

        assert expected in str(caught.value)
        assert caught.value.exit_code == 78
        assert copy.read_bytes() == path.read_bytes()


# --- hypothesis: whatever a recipe file holds, the loader answers or refuses cleanly ----

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 3), st.sampled_from(["", "x", "{{secret.token}}"])
)
values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["a", "key", "header"]), inner, max_size=2)
    ),
    max_leaves=5,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "primitive": st.sampled_from(["static_key", "oauth2", "bogus"]) | values,
        "base_url": st.sampled_from(["https://api.example.com", "http://x.example", "nope"])
        | values,
        "inject": st.fixed_dictionaries({}, optional={"header": values, "query": values}) | values,
        "required_secrets": st.lists(
            st.fixed_dictionaries({"key": st.sampled_from(["token", "1x"])}), max_size=2
        )
        | values,
        "grant": st.sampled_from(["pkce", "client_credentials"]) | values,
        "oauth": st.fixed_dictionaries({}, optional={"token_url": values}) | values,
        "test": values,
        "extends": st.sampled_from(["notion", "fuzz", "_google_base"]) | values,
        "tags": values,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=fields, version=st.sampled_from([1, 1, 2, "1"]))
def test_any_recipe_is_resolved_or_refused_cleanly(
    tmp_path: Path, document: dict[str, Any], version: Any
) -> None:
    """The loader never crashes: a Recipe or a RecipeError, nothing else."""
    directory = tmp_path / "fuzz"
    directory.mkdir(exist_ok=True)
    (directory / "fuzz.yaml").write_text(
        yaml.safe_dump({"service": "fuzz", "version": version, **document})
    )
    try:
        recipe = RecipeCatalog([directory]).resolve("fuzz")
    except RecipeError as error:
        message = str(error)
        assert ".yaml" in message  # every refusal names a file
        return
    assert recipe.service == "fuzz"
