"""The demo's OAuth2 server, held to the suite's OAuth2 peer (Authlib's Flask integration).

Both are Authlib's authorization server; the demo's carries requests in and
out with ``http.server`` instead of Flask. The same client-credentials
requests must get the same statuses and error codes from both, and the
demo's API must accept exactly the live tokens it issued.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from renewer.demo.oauth import API_PATH, TOKEN_PATH, DemoOAuth, ServedOAuth
from tests import leakguard
from tests.peers.oauth_server import OAuthPeer


@dataclass
class Server:
    token_url: str
    client_id: str
    client_secret: str


@pytest.fixture
def demo() -> Iterator[ServedOAuth]:
    served = DemoOAuth(expires_in=60).serve()
    try:
        yield served
    finally:
        served.close()


def both(demo: ServedOAuth, oauth_peer: OAuthPeer) -> list[Server]:
    client = demo.add_client()
    peer_secret = secrets.token_urlsafe(24)
    oauth_peer.add_client("peer-client", peer_secret, grant_types=("client_credentials",))
    leakguard.remember(client.client_secret, peer_secret)
    return [
        Server(demo.url + TOKEN_PATH, client.client_id, client.client_secret),
        Server(oauth_peer.token_url, "peer-client", peer_secret),
    ]


CASES: dict[str, Callable[[Server], dict[str, Any]]] = {
    "basic-auth": lambda s: {"auth": (s.client_id, s.client_secret)},
    "post-auth": lambda s: {
        "data_extra": {"client_id": s.client_id, "client_secret": s.client_secret}
    },
    "wrong-secret": lambda s: {"auth": (s.client_id, "wrong-" + s.client_secret)},
    "unknown-client": lambda s: {"auth": ("nobody", s.client_secret)},
    "no-auth": lambda s: {},
    "wrong-grant": lambda s: {"auth": (s.client_id, s.client_secret), "grant": "password"},
}


def answer(server: Server, case: str) -> tuple[int, str]:
    spec = CASES[case](server)
    data = {"grant_type": spec.get("grant", "client_credentials"), **spec.get("data_extra", {})}
    response = requests.post(server.token_url, data=data, auth=spec.get("auth"), timeout=10)
    body = response.json()
    if "access_token" in body:
        leakguard.remember(body["access_token"])
    return response.status_code, body.get("error") or body.get("token_type", "")


class TestHeldToTheSuitesPeer:
    @pytest.mark.parametrize("case", sorted(CASES))
    def test_the_same_request_gets_the_same_answer(
        self, demo: ServedOAuth, oauth_peer: OAuthPeer, case: str
    ) -> None:
        """Status and error code (or token type) agree for every client-credentials case."""
        ours, theirs = both(demo, oauth_peer)
        assert answer(ours, case) == answer(theirs, case)


class TestTheApi:
    def test_the_api_accepts_exactly_the_live_tokens_it_issued(self, demo: ServedOAuth) -> None:
        """200 with an issued token, 401 with anything else or after it expired."""
        client = demo.add_client()
        leakguard.remember(client.client_secret)
        issued = requests.post(
            demo.url + TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret),
            timeout=10,
        ).json()
        token = issued["access_token"]
        leakguard.remember(token)
        assert issued["expires_in"] == 60

        def me(value: str) -> int:
            headers = {"Authorization": f"Bearer {value}"}
            return requests.get(demo.url + API_PATH, headers=headers, timeout=10).status_code

        assert me(token) == 200
        assert me("not-" + token) == 401
        demo.demo.tokens[token] = time.time() - 1  # as if its hour had passed
        assert me(token) == 401
