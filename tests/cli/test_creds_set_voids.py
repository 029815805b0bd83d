"""`creds set` then `creds test` tests the new secret, not a token made with the old one.

Issue 16, item 2: a wrong client secret just stored passed (the cached access
token was tested), and so did an AWS key behind a cached STS session. Real
peers: Authlib's authorization server, and moto's STS and S3 checking SigV4.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.cli.helpers import Ran, invoke
from tests.credentials.test_service_account_aws import role_setup, role_user
from tests.peers.api_server import ApiPeer
from tests.peers.aws_server import MotoPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace, oauth_recipe

Secrets = Callable[[str], str]


def renewer(workspace: Workspace, *args: str, input: str | None = None) -> Ran:
    return invoke(
        ["--config", str(workspace.config_path), "--log-format", "json", *args],
        input=input,
        env={"HOME": str(workspace.home)},
    )


def idp(workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, grant: str) -> None:
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
    workspace.credential("idp", "idp", "idp/main")


class TestOAuthClientSecret:
    def test_a_wrong_client_secret_just_stored_fails_the_next_test(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """client_credentials: the cached token goes with the old secret."""
        right, wrong = make_secret("right"), make_secret("wrong")
        oauth_peer.add_client("machine", right, grant_types=("client_credentials",))
        idp(workspace, oauth_peer, api_peer, "client_credentials")
        values = {"client_id": "machine", "client_secret": right}
        assert (
            renewer(workspace, "creds", "set", "idp", "--stdin", input=json.dumps(values)).code == 0
        )
        assert renewer(workspace, "creds", "test", "idp").code == 0

        values["client_secret"] = wrong
        changed = renewer(workspace, "creds", "set", "idp", "--stdin", input=json.dumps(values))
        tested = renewer(workspace, "creds", "test", "idp")

        assert changed.code == 0
        assert "1 changed" in changed.stdout
        assert "dropped the access token made with the previous values" in changed.stdout
        assert tested.code == 1
        assert "refused the client credentials (invalid_client" in tested.stderr
        assert oauth_peer.token_requests["client_credentials"] == 2

    def test_the_same_values_again_keep_the_token(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Nothing changed, nothing dropped: no needless token request."""
        right = make_secret("right")
        oauth_peer.add_client("machine", right, grant_types=("client_credentials",))
        idp(workspace, oauth_peer, api_peer, "client_credentials")
        values = json.dumps({"client_id": "machine", "client_secret": right})
        renewer(workspace, "creds", "set", "idp", "--stdin", input=values)
        renewer(workspace, "creds", "test", "idp")

        again = renewer(workspace, "creds", "set", "idp", "--stdin", input=values)
        tested = renewer(workspace, "creds", "test", "idp")

        assert "dropped" not in again.stdout
        assert tested.code == 0
        assert oauth_peer.token_requests["client_credentials"] == 1

    def test_a_rotated_client_secret_keeps_the_grant_and_proves_itself_by_a_refresh(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Code grant: the refresh token belongs to the client, so no new login is needed."""
        old, new = make_secret("old"), make_secret("new")
        oauth_peer.add_client("renewer-test", old)
        idp(workspace, oauth_peer, api_peer, "authorization_code")
        workspace.set_secret("idp/main", client_id="renewer-test", client_secret=old)
        token = oauth_peer.issue("renewer-test")
        workspace.login_state("idp/main", token.access_token, token.refresh_token)
        oauth_peer.add_client("renewer-test", new)  # rotated at the provider

        values = {"client_id": "renewer-test", "client_secret": new}
        changed = renewer(workspace, "creds", "set", "idp", "--stdin", input=json.dumps(values))
        tested = renewer(workspace, "creds", "test", "idp")

        assert "dropped the access token made with the previous values" in changed.stdout
        assert "next: renewer creds test idp" in changed.stdout
        assert tested.code == 0, tested.stderr
        assert "(refreshed first)" in tested.stdout
        assert oauth_peer.refresh_count == 1

    def test_a_new_client_id_voids_the_grant(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Another client's refresh token is worthless: a login is the next step."""
        secret = make_secret("secret")
        idp(workspace, oauth_peer, api_peer, "authorization_code")
        workspace.set_secret("idp/main", client_id="old-client", client_secret=secret)
        workspace.login_state("idp/main", make_secret("access"), make_secret("refresh"))

        values = {"client_id": "new", "client_secret": secret}
        changed = renewer(workspace, "creds", "set", "idp", "--stdin", input=json.dumps(values))

        assert "dropped the access token and the refresh token" in changed.stdout
        assert "next: renewer auth login idp" in changed.stdout
        assert workspace.runtime("idp/main").refresh_token is None


class TestAwsKey:
    def test_a_wrong_key_behind_a_cached_session_fails_the_next_test(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """AssumeRole: the session made with the old key is dropped; STS judges the new one."""
        user, role = role_user(moto_peer)
        role_setup(workspace, moto_peer, user=user, role=role)
        assert renewer(workspace, "creds", "test", "s3").code == 0
        assert workspace.runtime("peer_s3/dev").access_token is not None

        wrong = {
            "access_key_id": user.keys.access_key_id,
            "secret_access_key": "x" * 40,
            "role_arn": role,
        }
        changed = renewer(workspace, "creds", "set", "s3", "--stdin", input=json.dumps(wrong))
        tested = renewer(workspace, "creds", "test", "s3")

        assert "dropped the STS session made with the previous values" in changed.stdout
        assert tested.code == 1
        assert "STS refused the stored access key" in tested.stderr
