"""renewer.bind: a requests.Session that is a credential, against the local peers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import renewer
from renewer.binding import BoundSession, bind
from renewer.errors import ConfigError, CredentialError
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace, oauth_recipe, static_recipe

Secrets = Callable[[str], str]


def static_bound(workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets) -> BoundSession:
    key = make_secret("key")
    api_peer.keys.add(key)
    workspace.recipe(
        "peerapi",
        static_recipe(
            "peerapi",
            api_peer.base_url,
            inject='header:\n  Authorization: "Bearer {{secret.api_key}}"\n',
        ),
    )
    workspace.credential("api", "peerapi", "peerapi/main")
    workspace.set_secret("peerapi/main", api_key=key)
    return bind("peerapi", "main", config=workspace.config(), http=workspace.http())


class TestBind:
    def test_relative_paths_resolve_against_the_base_url(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """/header on http://127.0.0.1:P/v1 is /v1/header, authenticated."""
        with static_bound(workspace, api_peer, make_secret) as session:
            answer = session.get("/header")

        assert answer.json() == {"ok": True, "style": "header"}
        assert api_peer.seen[-1].path == "/v1/header"

    def test_bind_by_credential_name(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """One argument: the credential's name."""
        static_bound(workspace, api_peer, make_secret)

        with bind("api", config=workspace.config(), http=workspace.http()) as session:
            assert session.get("header").status_code == 200

    def test_package_exposes_bind_lazily(self) -> None:
        """renewer.bind is the same function, found on first access."""
        assert renewer.bind is bind

    @pytest.mark.parametrize(
        "url",
        ["http://127.0.0.2:9/v1/header", "http://localhost:9/v1/header", "ftp://127.0.0.1/x"],
    )
    def test_absolute_url_to_another_host_is_refused(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets, url: str
    ) -> None:
        """The credential is never sent to a host other than the service's."""
        with (
            static_bound(workspace, api_peer, make_secret) as session,
            pytest.raises(CredentialError, match="refusing to send the credential"),
        ):
            session.get(url)

    def test_redirect_to_another_host_drops_the_credential(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A 307 elsewhere is followed bare: the other host's copy of /v1/header is unauthorized."""
        elsewhere = api_peer.url.replace("127.0.0.1", "localhost") + "/v1/header"
        with static_bound(workspace, api_peer, make_secret) as session:
            answer = session.get("/redirect", params={"to": elsewhere})

        assert answer.status_code == 401
        assert [(seen.path, seen.authorized) for seen in api_peer.seen] == [
            ("/v1/redirect", False),
            ("/v1/header", False),
        ]

    def test_same_host_redirect_is_followed_with_the_credential(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A redirect on the service's own host keeps working."""
        with static_bound(workspace, api_peer, make_secret) as session:
            answer = session.get("/redirect", params={"to": f"{api_peer.base_url}/header"})

        assert answer.json()["ok"] is True

    def test_unknown_or_ambiguous_binding_is_a_config_error(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """No match, or several, say so and list what exists."""
        static_bound(workspace, api_peer, make_secret)
        workspace.credential("api2", "peerapi", "peerapi/main")

        with pytest.raises(ConfigError, match="no credential for service 'peerapi' instance 'x'"):
            bind("peerapi", "x", config=workspace.config())
        with pytest.raises(ConfigError, match="several credentials match peerapi main: api, api2"):
            bind("peerapi", "main", config=workspace.config())


class TestBindOAuth:
    def test_401_refreshes_once_and_resends(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """An access token the service revoked early is replaced transparently."""
        secret = make_secret("client-secret")
        oauth_peer.add_client("renewer-test", secret)
        workspace.recipe(
            "idp",
            oauth_recipe(
                "idp",
                base_url=api_peer.base_url,
                authorize_url=oauth_peer.authorize_url,
                token_url=oauth_peer.token_url,
            ),
        )
        workspace.credential("idp", "idp", "idp/main")
        workspace.set_secret("idp/main", client_id="renewer-test", client_secret=secret)
        token = oauth_peer.issue("renewer-test")
        workspace.login_state("idp/main", token.access_token, token.refresh_token)
        token.access_token = "revoked-by-the-service"

        with bind("idp", config=workspace.config(), http=workspace.http()) as session:
            answer = session.get("/users/me")

        assert answer.status_code == 200
        assert oauth_peer.refresh_count == 1
        assert [seen.authorized for seen in api_peer.seen] == [False, True]

    def test_due_token_is_refreshed_before_the_request(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """No 401 needed when the clock says it is time."""
        secret = make_secret("client-secret")
        oauth_peer.add_client("renewer-test", secret)
        workspace.recipe(
            "idp",
            oauth_recipe(
                "idp",
                base_url=api_peer.base_url,
                authorize_url=oauth_peer.authorize_url,
                token_url=oauth_peer.token_url,
            ),
        )
        workspace.credential("idp", "idp", "idp/main")
        workspace.set_secret("idp/main", client_id="renewer-test", client_secret=secret)
        token = oauth_peer.issue("renewer-test")
        workspace.login_state("idp/main", token.access_token, token.refresh_token)
        workspace.clock.advance(3500)

        with bind("idp", config=workspace.config(), http=workspace.http()) as session:
            assert session.get("/users/me").status_code == 200

        assert oauth_peer.refresh_count == 1
        assert [seen.authorized for seen in api_peer.seen] == [True]
