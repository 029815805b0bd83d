"""What a person reads on a terminal: the fixing command, the runbook, and no secret (item 7).

Console failures of credentials gave neither the fix command nor `see:`
(only the JSON did); every failing test ended with `renewer creds set NAME`,
even when the service took the key and the recipe's expectation was wrong;
and plain stdout did not pass the scrubber the docs promised. Real peers:
the local API (static keys) and httpbin (which echoes what it received).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.cli.helpers import Ran, invoke
from tests.peers.api_server import ApiPeer
from tests.peers.httpbin_peer import HttpbinPeer
from tests.workspace import Workspace, static_recipe

Secrets = Callable[[str], str]
BEARER = 'header:\n  Authorization: "Bearer {{secret.api_key}}"\n'


def renewer(workspace: Workspace, *args: str, log: str = "console") -> Ran:
    return invoke(
        ["--config", str(workspace.config_path), "--log-format", log, *args],
        env={"HOME": str(workspace.home)},
    )


def static_credential(
    workspace: Workspace, api_peer: ApiPeer, key: str, *, test_extra: str = ""
) -> None:
    text = static_recipe("peerapi", api_peer.base_url, inject=BEARER) + test_extra
    workspace.recipe("peerapi", text)
    workspace.credential("api", "peerapi", "peerapi/main", test="always")
    workspace.set_secret("peerapi/main", api_key=key)


class TestRunOnTheConsole:
    def test_a_refused_key_gives_the_command_and_the_runbook(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """401: the key is the problem; `creds set` and the runbook section are printed."""
        static_credential(workspace, api_peer, make_secret("revoked-key"))

        ran = renewer(workspace, "run")

        assert ran.code == 1
        line = next(line for line in ran.stderr.splitlines() if "the peerapi test failed" in line)
        assert line.endswith(
            "no sink was written; hint: renewer creds set api; "
            "see: runbooks/credentials.md#credential-failed"
        )

    def test_an_expectation_mismatch_points_at_the_recipe_not_the_key(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """The service took the key (HTTP 200) and answered otherwise: the recipe is named."""
        key = make_secret("good-key")
        api_peer.keys.add(key)
        static_credential(workspace, api_peer, key, test_extra="  expect_json: {style: query}\n")

        ran = renewer(workspace, "run")

        assert ran.code == 1
        assert "body.style: expected 'query', got a different string" in ran.stderr
        assert "hint: the service accepted the request but its answer (HTTP 200)" in ran.stderr
        assert "`renewer recipes show peerapi`" in ran.stderr
        assert "renewer creds set api" not in ran.stderr

    def test_creds_test_says_the_same(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """FAIL, the problem, then hint and see on stderr."""
        key = make_secret("good-key")
        api_peer.keys.add(key)
        static_credential(workspace, api_peer, key, test_extra="  expect_json: {style: query}\n")

        ran = renewer(workspace, "creds", "test", "api")

        assert ran.code == 1
        assert ran.stdout.startswith("FAIL api: GET /header → HTTP 200")
        assert "hint: the service accepted the request" in ran.stderr
        assert "see: runbooks/credentials.md#credential-failed" in ran.stderr


class TestStdoutIsScrubbed:
    def test_a_service_echoing_the_key_shows_it_masked(
        self, workspace: Workspace, httpbin: HttpbinPeer, make_secret: Secrets
    ) -> None:
        """httpbin echoes the injected header and query: `creds call` prints them redacted."""
        key = make_secret("echoed-key")
        workspace.recipe(
            "echo",
            "service: echo\nversion: 1\nprimitive: static_key\n"
            f"base_url: {httpbin.url}\nrequired_secrets:\n  - {{key: api_key}}\n"
            'inject:\n  header: {X-Api-Key: "{{secret.api_key}}"}\n'
            '  query: {api_key: "{{secret.api_key}}"}\n',
        )
        workspace.credential("echo", "echo", "echo/main")
        workspace.set_secret("echo/main", api_key=key)

        ran = renewer(workspace, "creds", "call", "echo", "GET", "/anything")

        assert ran.code == 0
        echoed = json.loads(ran.stdout)
        assert echoed["headers"]["X-Api-Key"] == "[redacted]"
        assert echoed["args"] == {"api_key": "[redacted]"}
        assert httpbin.received(key)  # it was sent; it is only not shown
