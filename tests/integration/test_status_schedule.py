"""`renewer status` judges a credential by its own schedule (issue 16, item 1).

Real peers: Authlib's authorization server issues 1-hour access tokens; the
API accepts them. `renewer run` then `renewer status`, through the CLI, with
the clock of this machine. No user manager answers here, so the next run is
the last run plus `run.interval` (1 day by default).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from tests.cli.helpers import Ran, invoke
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import Workspace, oauth_recipe

Secrets = Callable[[str], str]


def cli(workspace: Workspace, *args: str) -> Ran:
    return invoke(
        ["--config", str(workspace.config_path), "--log-format", "json", *args],
        env=workspace.environ,
    )


def machine_credential(
    workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, secret: str
) -> None:
    oauth_peer.add_client("machine", secret, grant_types=("client_credentials",))
    workspace.recipe(
        "machine",
        oauth_recipe(
            "machine",
            base_url=api_peer.base_url,
            authorize_url=oauth_peer.authorize_url,
            token_url=oauth_peer.token_url,
            grant="client_credentials",
        ),
    )
    workspace.credential("machine", "machine", "machine/x")
    workspace.set_secret("machine/x", client_id="machine", client_secret=secret)


class TestStatusBySchedule:
    def test_an_hourly_token_refreshed_by_every_run_is_healthy(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Expiring in 59 minutes with the next run a day away is fine: that run refreshes it."""
        machine_credential(workspace, oauth_peer, api_peer, make_secret("cc-secret"))

        assert cli(workspace, "run").code == 0
        status = cli(workspace, "status", "--json")
        brief = cli(workspace, "status", "--brief")

        document = json.loads(status.stdout)
        (item,) = document["items"]
        assert item["key"] == "credential/machine"
        assert 0 < item["ttl_seconds"] <= 3600
        assert item["details"]["refreshes_after_expiry"] is True
        assert (status.code, document["healthy"], document["attention"]) == (0, True, [])
        assert (brief.code, brief.stdout) == (0, "")

    def test_a_token_without_a_refresh_token_that_dies_before_the_next_run_needs_a_person(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A code-grant token with no refresh token cannot outlive tomorrow's run: said now."""
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
        token = oauth_peer.issue("renewer-test", refresh=False)
        workspace.clock.now_value = time.time()
        workspace.login_state("idp/main", token.access_token, None)

        assert cli(workspace, "run").code == 0
        status = cli(workspace, "status")

        assert status.code == 1
        assert "attention: credential/idp: expires in 0h 59m, before the next run" in status.stdout

    def test_a_removed_credential_leaves_status_after_the_next_run(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """The state file forgets items the config no longer lists."""
        machine_credential(workspace, oauth_peer, api_peer, make_secret("cc-secret"))
        workspace.credential("gone", "machine", "machine/gone")  # no secret: fails
        assert cli(workspace, "run").code == 1
        assert "credential/gone" in cli(workspace, "status").stdout

        workspace.credentials.pop()
        workspace.write_config()
        assert cli(workspace, "run").code == 0
        status = cli(workspace, "status")

        assert status.code == 0
        assert "credential/gone" not in status.stdout
        assert "credential/machine" in status.stdout
