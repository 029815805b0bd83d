"""generic_jwt assertions judged by PyJWT, a library renewer does not use (issue 16, items 5 and 9).

RFC 7523 §3 makes ``iss``, ``sub``, ``aud`` and ``exp`` MUSTs; the endpoint
(tests/peers/pyjwt_endpoint.py) requires all four with PyJWT's own checks.
Through the CLI, with this machine's clock.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.cli.helpers import Ran, invoke
from tests.keys import ec_key, private_pem
from tests.peers.pyjwt_endpoint import PyJwtEndpoint
from tests.workspace import Workspace


def renewer(workspace: Workspace, *args: str, input: str | None = None) -> Ran:
    return invoke(
        ["--config", str(workspace.config_path), "--log-format", "json", *args],
        input=input,
        env={"HOME": str(workspace.home)},
    )


def recipe(endpoint: PyJwtEndpoint, *, algorithm: str, audience: str | None = None) -> str:
    return f"""\
        service: svc_jwt
        version: 1
        primitive: service_account
        kind: generic_jwt
        base_url: {endpoint.url}/v1
        token_exchange:
          endpoint: {endpoint.token_url}
          audience: {audience or endpoint.token_url}
          algorithm: {algorithm}
          issuer_from_secret: client_id
        required_secrets:
          - {{key: client_id, secret: false}}
          - {{key: private_key, type: pem_key}}
        inject:
          header: {{Authorization: "Bearer {{{{runtime.access_token}}}}"}}
        test: {{method: GET, path: /me, expect_status: 200}}
        """


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_the_assertion_carries_every_claim_rfc_7523_requires(
    workspace: Workspace,
    pyjwt_endpoint: PyJwtEndpoint,
    rsa_key: rsa.RSAPrivateKey,
    algorithm: str,
) -> None:
    """No subject_from_secret: sub is the issuer, and PyJWT accepts the assertion."""
    key = rsa_key if algorithm == "RS256" else ec_key()
    pyjwt_endpoint.register("svc-1", key.public_key(), algorithm)
    workspace.recipe("svc_jwt", recipe(pyjwt_endpoint, algorithm=algorithm))
    workspace.credential("svc", "svc_jwt", "svc_jwt/main")
    values = {"client_id": "svc-1", "private_key": private_pem(key)}

    assert renewer(workspace, "creds", "set", "svc", "--stdin", input=json.dumps(values)).code == 0
    tested = renewer(workspace, "creds", "test", "svc")

    assert tested.code == 0, tested.stderr + repr(pyjwt_endpoint.refusals)
    assert tested.stdout.startswith("PASS svc: GET /me → HTTP 200")
    [claims] = pyjwt_endpoint.claims
    assert claims["sub"] == claims["iss"] == "svc-1"
    assert claims["aud"] == pyjwt_endpoint.token_url
    assert claims["exp"] - claims["iat"] <= 3600


def test_a_refused_claim_names_the_recipe_and_a_fixed_recipe_clears_the_mark(
    workspace: Workspace, pyjwt_endpoint: PyJwtEndpoint, rsa_key: rsa.RSAPrivateKey
) -> None:
    """A wrong audience is the recipe's fault: the hint says so, and fixing it is enough."""
    pyjwt_endpoint.register("svc-1", rsa_key.public_key(), "RS256")
    path = workspace.recipe(
        "svc_jwt", recipe(pyjwt_endpoint, algorithm="RS256", audience="https://wrong.example/")
    )
    workspace.credential("svc", "svc_jwt", "svc_jwt/main")
    values = {"client_id": "svc-1", "private_key": private_pem(rsa_key)}
    renewer(workspace, "creds", "set", "svc", "--stdin", input=json.dumps(values))

    refused = renewer(workspace, "creds", "test", "svc")
    marked = json.loads(renewer(workspace, "creds", "list", "--json").stdout)["credentials"][0]
    path.write_text(path.read_text().replace("https://wrong.example/", pyjwt_endpoint.token_url))
    fixed = json.loads(renewer(workspace, "creds", "list", "--json").stdout)["credentials"][0]
    retried = renewer(workspace, "creds", "test", "svc")

    assert refused.code == 1
    assert "refused the grant (invalid_grant: Audience doesn't match)" in refused.stderr
    assert "hint: renewer creds set svc if the key was replaced or deleted" in refused.stderr
    assert "renewer recipes show svc_jwt" in refused.stderr
    assert marked["state"] == "needs-login"
    assert fixed["state"] == "refresh-due"
    assert retried.code == 0, retried.stderr
