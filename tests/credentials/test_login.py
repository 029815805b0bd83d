"""renewer auth login: loopback redirect, PKCE, state check, timeout — end to end."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import requests

from renewer.credentials.login import login
from renewer.errors import CredentialError
from renewer.primitives.base import RuntimeState
from renewer.secretstore.base import Namespace, SecretRef
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace, oauth_recipe, static_recipe

Secrets = Callable[[str], str]
REF = "idp/main"


class Browser:
    """Stands in for the person's browser: fetch the URL, follow the redirect to the callback."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.statuses: list[int] = []

    def __call__(self, url: str) -> None:
        def visit() -> None:
            host = url.split("/authorize", maxsplit=1)[0]
            requests.get(f"{host}/favicon.ico", timeout=5)  # browsers do this; must not matter
            self.statuses.append(requests.get(url, timeout=5).status_code)

        thread = threading.Thread(target=visit)
        thread.start()
        self.threads.append(thread)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(5)


def setup(
    workspace: Workspace,
    oauth_peer: OAuthPeer,
    api_peer: ApiPeer,
    make_secret: Secrets,
    *,
    grant: str = "authorization_code",
) -> None:
    workspace.recipe(
        "idp",
        oauth_recipe(
            "idp",
            base_url=api_peer.base_url,
            authorize_url=oauth_peer.authorize_url,
            token_url=oauth_peer.token_url,
            grant=grant,
        ),
    )
    workspace.credential("idp", "idp", REF)
    if grant == "pkce":
        oauth_peer.add_client("public-app", None, auth_method="none")
        workspace.set_secret(REF, client_id="public-app")
    else:
        secret = make_secret("client-secret")
        oauth_peer.add_client("renewer-test", secret)
        workspace.set_secret(REF, client_id="renewer-test", client_secret=secret)


def no_announce(url: str, redirect_uri: str) -> None:
    pass


class TestLogin:
    @pytest.mark.parametrize("grant", ["authorization_code", "pkce"])
    def test_login_stores_tokens_that_work(
        self,
        workspace: Workspace,
        oauth_peer: OAuthPeer,
        api_peer: ApiPeer,
        make_secret: Secrets,
        grant: str,
    ) -> None:
        """The browser authorizes, the code is exchanged with PKCE, the token passes the test."""
        setup(workspace, oauth_peer, api_peer, make_secret, grant=grant)
        workspace.set_runtime(REF, RuntimeState().marked_for_reauth("invalid_grant"))
        browser = Browser()
        announced: list[str] = []

        runtime = login(
            workspace.open("idp"),
            announce=lambda url, _: announced.append(url),
            open_browser=browser,
            timeout=10,
        )
        browser.join()

        stored = workspace.runtime(REF)
        assert stored.access_token == runtime.access_token
        assert stored.refresh_token is not None
        assert not stored.needs_reauth
        assert browser.statuses == [200]
        assert oauth_peer.challenge_methods == ["S256"]
        assert "code_challenge=" in announced[0]
        expected_auth = "none" if grant == "pkce" else "client_secret_basic"
        assert oauth_peer.client_auth_seen == [expected_auth]
        credential = workspace.open("idp")
        assert credential.test(credential.state()).passed

    def test_forged_state_is_refused_and_nothing_stored(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A redirect whose state is not ours is not believed (CSRF); the wait goes on."""
        setup(workspace, oauth_peer, api_peer, make_secret)
        oauth_peer.wrong_state = True
        browser = Browser()

        with pytest.raises(CredentialError, match=r"\(1 redirect.* wrong state") as caught:
            login(workspace.open("idp"), announce=no_announce, open_browser=browser, timeout=2)
        browser.join()

        assert caught.value.hint.startswith("renewer auth login idp, then open the printed URL")
        assert oauth_peer.token_requests.total() == 0
        assert workspace.store().read(SecretRef.parse(REF), Namespace.RUNTIME) is None

    def test_denied_authorization_is_reported(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """The person clicked "Deny": access_denied, nothing stored."""
        setup(workspace, oauth_peer, api_peer, make_secret)
        oauth_peer.deny = True
        browser = Browser()

        with pytest.raises(CredentialError, match="did not authorize \\(access_denied"):
            login(workspace.open("idp"), announce=no_announce, open_browser=browser, timeout=10)
        browser.join()

    def test_no_redirect_times_out(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Nobody opens the URL: a clear error after the timeout, the port closed."""
        setup(workspace, oauth_peer, api_peer, make_secret)
        redirect: list[str] = []

        with pytest.raises(CredentialError, match=r"no authorization arrived within 0\.2s"):
            login(workspace.open("idp"), announce=lambda _, uri: redirect.append(uri), timeout=0.2)

        with pytest.raises(requests.ConnectionError):
            requests.get(redirect[0], timeout=2)

    def test_client_credentials_need_no_login(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Machine credentials fetch their own tokens."""
        setup(workspace, oauth_peer, api_peer, make_secret, grant="client_credentials")

        with pytest.raises(CredentialError, match="needs no login") as caught:
            login(workspace.open("idp"), announce=no_announce, timeout=1)

        assert caught.value.hint == "renewer creds test idp"

    def test_static_keys_have_nothing_to_log_in_to(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A static key is set, not logged in."""
        workspace.recipe(
            "peerapi",
            static_recipe(
                "peerapi", api_peer.base_url, inject='header:\n  X: "{{secret.api_key}}"\n'
            ),
        )
        workspace.credential("api", "peerapi", "peerapi/main")
        workspace.set_secret("peerapi/main", api_key=make_secret("k"))

        with pytest.raises(CredentialError, match="nothing to log in to"):
            login(workspace.open("api"), announce=no_announce, timeout=1)
