"""static_key with HTTP Digest auth (seed 004 §3.1) against httpbin's /digest-auth (RFC 7616).

httpbin checks the digest with its own code and challenge. Its endpoint takes
the expected user and password in the path, so the password here is a fixed
test value written in the recipe, not a secret made by the test.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.cli.helpers import Ran, invoke
from tests.peers.httpbin_peer import HttpbinPeer
from tests.workspace import Workspace

PASSWORD = "digest-test-password"  # httpbin takes it in the URL path: not a secret


def renewer(workspace: Workspace, *args: str, input: str | None = None) -> Ran:
    return invoke(
        ["--config", str(workspace.config_path), "--log-format", "json", *args],
        input=input,
        env={"HOME": str(workspace.home)},
    )


def digest_recipe(httpbin: HttpbinPeer, algorithm: str) -> str:
    return f"""\
        service: legacy
        version: 1
        primitive: static_key
        base_url: {httpbin.url}
        required_secrets:
          - {{key: username, secret: false}}
          - {{key: password}}
        inject:
          digest_auth: {{username: "{{{{secret.username}}}}", password: "{{{{secret.password}}}}"}}
        test:
          method: GET
          path: /digest-auth/auth/alice/{PASSWORD}/{algorithm}
          expect_json: {{authenticated: true, user: alice}}
        """


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_digest_auth_answers_the_challenge(
    workspace: Workspace, httpbin: HttpbinPeer, algorithm: str
) -> None:
    """A bare request, httpbin's challenge, then the digest (never the password itself)."""
    workspace.recipe("legacy", digest_recipe(httpbin, algorithm))
    workspace.credential("legacy", "legacy", "legacy/main")
    values = {"username": "alice", "password": PASSWORD}

    assert (
        renewer(workspace, "creds", "set", "legacy", "--stdin", input=json.dumps(values)).code == 0
    )
    tested = renewer(workspace, "creds", "test", "legacy")

    assert tested.code == 0, tested.stdout + tested.stderr
    assert tested.stdout.startswith(
        f"PASS legacy: GET /digest-auth/auth/alice/[redacted]/{algorithm}"
    )
    first, second = httpbin.carried[-2:]
    assert "AUTHORIZATION" not in first.headers
    assert "AUTHORIZATION: Digest " in second.headers
    assert 'response="' in second.headers
    # the digest names the URI, which holds the password for httpbin; nothing else does
    assert PASSWORD not in re.sub(r'uri="[^"]*"', "", second.headers)


def test_a_wrong_password_fails_as_the_credential(
    workspace: Workspace, httpbin: HttpbinPeer
) -> None:
    """httpbin refuses the digest: a 401, so the hint is creds set."""
    workspace.recipe("legacy", digest_recipe(httpbin, "MD5"))
    workspace.credential("legacy", "legacy", "legacy/main")
    values = {"username": "alice", "password": "not-the-password"}
    renewer(workspace, "creds", "set", "legacy", "--stdin", input=json.dumps(values))

    tested = renewer(workspace, "creds", "test", "legacy")

    assert tested.code == 1
    assert "→ HTTP 401" in tested.stdout
    assert "hint: renewer creds set legacy" in tested.stderr
