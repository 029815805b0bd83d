"""A recipe cannot switch OAuth off: protocol parameters are refused in the extras.

Issue 20, item 3: ``oauth.authorize_params: {redirect_uri:
"https://evil.example/steal", response_type: token}`` produced an authorize
URL with the implicit grant, no ``code_challenge`` and a redirect to a host no
rule allowed. The schema now refuses every protocol parameter in
``authorize_params``, ``token_params`` and ``token_exchange.params`` (any
case), the primitives check again, and ordinary extras (``access_type``,
``prompt``) still reach the real Authlib authorization server.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from renewer.credentials.login import login
from renewer.credentials.opening import catalog_for
from renewer.errors import CredentialError, RecipeError
from renewer.primitives import jwt_bearer
from renewer.primitives.oauth2 import OAuth2
from renewer.recipes.loader import SCHEMA_PATH
from renewer.recipes.oauth_params import JWT_BEARER_PROTOCOL_PARAMS, OAUTH_PROTOCOL_PARAMS
from tests.cli.helpers import invoke
from tests.credentials.test_login import Browser, setup
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace, oauth_recipe

Secrets = Callable[[str], str]
EVIL = "https://evil.example/steal"


def recipe_with(workspace: Workspace, block: str, extra: dict[str, str]) -> None:
    """The test OAuth recipe with *extra* under ``oauth.<block>``."""
    text = oauth_recipe(
        "idp",
        base_url="http://127.0.0.1:9/",
        authorize_url="http://127.0.0.1:9/authorize",
        token_url="http://127.0.0.1:9/token",
    )
    lines = "".join(f"    {key}: {json.dumps(value)}\n" for key, value in extra.items())
    text = text.replace("  client_auth: header\n", f"  client_auth: header\n  {block}:\n{lines}")
    workspace.recipe("idp", text)
    workspace.credential("idp", "idp", "idp/main")


def test_the_recipe_of_issue_20_is_refused_with_file_line_and_key(workspace: Workspace) -> None:
    """``recipes list`` marks it INVALID; ``auth login`` exits 78 before any URL is built."""
    recipe_with(workspace, "authorize_params", {"redirect_uri": EVIL, "response_type": "token"})
    env = {"HOME": str(workspace.home), "RENEWER_CONFIG": str(workspace.config_path)}

    listed = invoke(["recipes", "list"], env=env)
    login_ran = invoke(["auth", "login", "idp"], env=env)

    row = next(line for line in listed.stdout.splitlines() if line.startswith("idp "))
    assert f"INVALID: {workspace.recipes / 'idp.yaml'}:" in row
    assert "oauth.authorize_params: renewer sets this OAuth protocol parameter itself" in row
    assert login_ran.code == 78, login_ran.stderr
    assert "got 'redirect_uri'" in login_ran.stderr
    assert "got 'response_type'" in login_ran.stderr
    assert "evil.example" not in login_ran.stdout


@pytest.mark.parametrize("block", ["authorize_params", "token_params"])
@pytest.mark.parametrize("name", sorted(OAUTH_PROTOCOL_PARAMS))
def test_every_protocol_parameter_is_refused_in_any_case(
    workspace: Workspace, block: str, name: str
) -> None:
    recipe_with(workspace, block, {name.upper(): "x"})

    with pytest.raises(RecipeError, match=rf"oauth\.{block}: renewer sets .* got '{name.upper()}'"):
        catalog_for(workspace.config()).resolve("idp")


@pytest.mark.parametrize(
    ("definition", "names"),
    [("oauth_params", OAUTH_PROTOCOL_PARAMS), ("jwt_bearer_params", JWT_BEARER_PROTOCOL_PARAMS)],
)
def test_the_schema_refuses_exactly_the_protocol_parameters(
    definition: str, names: frozenset[str]
) -> None:
    """schema.json's patterns and the constants the primitives check are one list each."""
    schema = json.loads(SCHEMA_PATH.read_text())
    pattern = re.compile(schema["$defs"][definition]["propertyNames"]["pattern"])
    for name in names:
        for variant in (name, name.upper(), name.title(), f" {name} "):
            assert not pattern.search(variant), variant
    candidates = OAUTH_PROTOCOL_PARAMS | {"access_type", "prompt", "audience", "resource", "nonce"}
    assert all(pattern.search(name) for name in candidates - names)


def test_ordinary_extras_reach_a_real_authorization_server_with_pkce_intact(
    workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
) -> None:
    """access_type/prompt are added; the code grant, PKCE and the loopback redirect stay."""
    setup(workspace, oauth_peer, api_peer, make_secret)
    path = workspace.recipes / "idp.yaml"
    path.write_text(
        path.read_text().replace(
            "  client_auth: header\n",
            "  client_auth: header\n  authorize_params: {access_type: offline, prompt: consent}\n",
        )
    )
    announced: list[str] = []
    browser = Browser()

    login(
        workspace.open("idp"),
        announce=lambda url, _: announced.append(url),
        open_browser=browser,
        timeout=10,
    )
    browser.join()

    query = parse_qs(urlsplit(announced[0]).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert urlsplit(query["redirect_uri"][0]).hostname == "127.0.0.1"
    assert browser.statuses == [200]
    assert oauth_peer.challenge_methods == ["S256"]


def test_the_primitives_refuse_protocol_parameters_the_schema_never_saw(
    workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
) -> None:
    """A recipe built around the loader still cannot redirect the code or drop PKCE."""
    setup(workspace, oauth_peer, api_peer, make_secret)
    state = workspace.open("idp").state()
    assert state.recipe.oauth is not None
    oauth = dataclasses.replace(state.recipe.oauth, authorize_params={"redirect_uri": EVIL})
    hostile = dataclasses.replace(state, recipe=dataclasses.replace(state.recipe, oauth=oauth))

    with pytest.raises(CredentialError, match="sets OAuth protocol parameters .*: redirect_uri"):
        OAuth2().authorization_url(
            hostile, redirect_uri="http://127.0.0.1:1/cb", csrf_state="s", code_verifier="v" * 43
        )
    assert oauth_peer.challenge_methods == []


JWT_RECIPE = """\
service: jwtsvc
version: 1
primitive: service_account
kind: generic_jwt
base_url: http://127.0.0.1:9/
token_exchange:
  endpoint: http://127.0.0.1:9/token
  issuer_from_secret: client_email
  params: {PARAMS}
required_secrets:
  - {key: client_email, secret: false}
  - {key: private_key}
inject:
  header: {Authorization: "Bearer {{runtime.access_token}}"}
"""


def test_a_jwt_bearer_exchange_cannot_replace_its_grant(workspace: Workspace) -> None:
    """token_exchange.params with grant_type is refused by the schema, and by the primitive."""
    workspace.recipe("jwtsvc", JWT_RECIPE.replace("{PARAMS}", "{grant_type: password}"))
    workspace.credential("jwtsvc", "jwtsvc", "jwtsvc/main")
    with pytest.raises(RecipeError, match=r"token_exchange\.params: .* got 'grant_type'"):
        catalog_for(workspace.config()).resolve("jwtsvc")

    workspace.recipe("jwtsvc", JWT_RECIPE.replace("{PARAMS}", "{audience: api}"))
    recipe = catalog_for(workspace.config()).resolve("jwtsvc")
    assert recipe.token_exchange is not None
    forged = dataclasses.replace(recipe.token_exchange, params={"Assertion": "forged"})

    with pytest.raises(CredentialError, match="protocol parameters .*: Assertion"):
        jwt_bearer._spec("jwtsvc", dataclasses.replace(recipe, token_exchange=forged))
