"""static_key against the local API: each injection style, tests, retries, refusals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from renewer.errors import CredentialError, ServiceUnavailable
from renewer.primitives.inject import Injection, apply_injection
from tests.peers.api_server import ApiPeer
from tests.workspace import Workspace, static_recipe

Secrets = Callable[[str], str]


def setup(
    workspace: Workspace,
    api_peer: ApiPeer,
    make_secret: Secrets,
    *,
    inject: str,
    test_path: str = "/header",
    key: str | None = None,
) -> str:
    value = key or make_secret("key")
    api_peer.keys.add(value)
    workspace.recipe(
        "peerapi", static_recipe("peerapi", api_peer.base_url, inject=inject, test_path=test_path)
    )
    workspace.credential("api", "peerapi", "peerapi/main")
    workspace.set_secret("peerapi/main", api_key=value)
    return value


class TestInjectionStyles:
    @pytest.mark.parametrize(
        ("inject", "path"),
        [
            ('header:\n  Authorization: "Bearer {{secret.api_key}}"\n', "/header"),
            ('query:\n  api_key: "{{secret.api_key}}"\n', "/query"),
            ('basic_auth:\n  username: "{{secret.api_key}}"\n  password: ""\n', "/basic"),
        ],
        ids=["header", "query", "basic-auth"],
    )
    def test_injected_key_is_accepted(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets, inject: str, path: str
    ) -> None:
        """The recipe's test passes with the key placed where the API expects it."""
        setup(workspace, api_peer, make_secret, inject=inject, test_path=path)
        credential = workspace.open("api")

        result = credential.test(credential.state())

        assert result.passed, result.problems
        assert result.status == 200

    def test_json_body_injection_keeps_the_request_fields(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A field is added to the JSON body; the caller's fields stay."""
        key = setup(
            workspace, api_peer, make_secret, inject='body:\n  api_key: "{{secret.api_key}}"\n'
        )
        credential = workspace.open("api")
        request = requests.Request("POST", f"{api_peer.base_url}/body", json={"page": 1}).prepare()

        credential.authenticate(request, credential.state())
        answer = requests.Session().send(request, timeout=5)

        assert answer.json() == {"ok": True, "style": "body", "fields": ["api_key", "page"]}
        assert request.headers["Content-Length"] == str(len(request.body or b""))
        assert key not in answer.text

    def test_form_body_injection(self, api_peer: ApiPeer, make_secret: Secrets) -> None:
        """A form body gets the field as a form field."""
        key = make_secret("key")
        api_peer.keys.add(key)
        request = requests.Request("POST", f"{api_peer.base_url}/form", data={"q": "x"}).prepare()

        apply_injection(request, Injection(body={"api_key": key}))
        answer = requests.Session().send(request, timeout=5)

        assert answer.json() == {"ok": True, "style": "form", "fields": ["api_key", "q"]}

    def test_query_injection_replaces_a_same_named_parameter(self, make_secret: Secrets) -> None:
        """The caller cannot smuggle its own api_key next to ours."""
        key = make_secret("key")
        request = requests.Request("GET", "http://127.0.0.1:9/v1/query?api_key=x&page=2").prepare()

        apply_injection(request, Injection(query={"api_key": key}))

        assert request.url == f"http://127.0.0.1:9/v1/query?page=2&api_key={key}"

    def test_non_json_body_is_refused_not_corrupted(self, make_secret: Secrets) -> None:
        """Body injection into plain text would corrupt it: refused, body untouched."""
        request = requests.Request(
            "POST",
            "http://127.0.0.1:9/x",
            data="plain text",
            headers={"Content-Type": "text/plain"},
        ).prepare()

        with pytest.raises(CredentialError, match="the body is text/plain"):
            apply_injection(request, Injection(body={"api_key": make_secret("k")}))

        assert request.body == "plain text"

    def test_injection_repr_hides_values(self, make_secret: Secrets) -> None:
        """An Injection in a log line shows where values go, not what they are."""
        key = make_secret("key")

        text = repr(Injection(headers={"Authorization": key}, basic_auth=(key, key)))

        assert key not in text
        assert "Authorization" in text


class TestRecipeTest:
    def test_wrong_key_fails_the_test(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A key the API refuses is a failed test, with the status."""
        setup(
            workspace,
            api_peer,
            make_secret,
            inject='header:\n  Authorization: "Bearer {{secret.api_key}}"\n',
        )
        api_peer.keys.clear()
        credential = workspace.open("api")

        result = credential.test(credential.state())

        assert not result.passed
        assert result.problems == ("expected HTTP 200, got HTTP 401",)

    def test_flaky_service_is_retried(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Two 503s then success: the test passes after two jittered waits on the fake clock."""
        setup(
            workspace,
            api_peer,
            make_secret,
            inject='header:\n  Authorization: "Bearer {{secret.api_key}}"\n',
            test_path="/flaky",
        )
        api_peer.flaky = 2
        credential = workspace.open("api")

        assert credential.test(credential.state()).passed
        assert len(workspace.clock.slept) == 2

    def test_unavailable_service_is_temporary(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A service down for every attempt ends as exit 75, naming the call."""
        setup(
            workspace,
            api_peer,
            make_secret,
            inject='header:\n  Authorization: "Bearer {{secret.api_key}}"\n',
            test_path="/flaky",
        )
        api_peer.flaky = 100
        credential = workspace.open("api")

        with pytest.raises(
            ServiceUnavailable, match=r"api: test GET /flaky: HTTP 503; gave up after 3"
        ) as caught:
            credential.test(credential.state())

        assert caught.value.exit_code == 75

    def test_unreachable_host_is_temporary_and_names_no_url(
        self, workspace: Workspace, make_secret: Secrets
    ) -> None:
        """Connection refused: exit 75, and the message has no query string holding the key."""
        key = make_secret("key")
        workspace.recipe(
            "down",
            static_recipe(
                "down", "http://127.0.0.1:9/v1", inject='query:\n  api_key: "{{secret.api_key}}"\n'
            ),
        )
        workspace.credential("down", "down", "down/x")
        workspace.set_secret("down/x", api_key=key)
        credential = workspace.open("down")

        with pytest.raises(ServiceUnavailable, match="could not connect") as caught:
            credential.test(credential.state())

        assert key not in str(caught.value)

    def test_missing_secret_field_names_the_command(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A stored secret without the recipe's key: the fix is `renewer creds set`."""
        setup(
            workspace,
            api_peer,
            make_secret,
            inject='header:\n  Authorization: "Bearer {{secret.api_key}}"\n',
        )
        workspace.set_secret("peerapi/main", other=make_secret("x"))
        credential = workspace.open("api")

        with pytest.raises(CredentialError, match=r"\{\{secret.api_key\}\} has no value") as caught:
            credential.test(credential.state())

        assert caught.value.hint == "renewer creds set api"

    def test_no_stored_secret_names_the_command(
        self, workspace: Workspace, api_peer: ApiPeer
    ) -> None:
        """Nothing stored yet: the error says which store and the command."""
        workspace.recipe(
            "peerapi",
            static_recipe(
                "peerapi", api_peer.base_url, inject='header:\n  X: "{{secret.api_key}}"\n'
            ),
        )
        workspace.credential("api", "peerapi", "peerapi/main")

        with pytest.raises(
            CredentialError, match="no secret stored for peerapi/main in the local store"
        ):
            workspace.open("api").state()


class TestForcedRefresh:
    def test_forcing_a_static_key_refreshes_nothing(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A static key has nothing to refresh, even when forced: reported as not refreshed."""
        setup(workspace, api_peer, make_secret, inject='header:\n  X: "{{secret.api_key}}"\n')

        fresh = workspace.open("api").ensure_fresh(force=True)

        assert not fresh.refreshed
