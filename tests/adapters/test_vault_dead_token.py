"""A dead token asks for a login on every Vault call renewer makes; a denial does not.

On OpenBao (and Vault before 1.17) a revoked or expired caller token gets a bare
``403 {"errors":["permission denied"]}`` on every path, while a policy denial
comes multierror-wrapped (``renewer/core/forbidden.py``). Each call below is one
renewer really makes; each runs with a revoked token (→ ``ReauthRequired``,
``#reauth-required``) and with a live token whose policy allows nothing
(→ ``VaultDenied``, ``#vault-denied``), against the session's Vault peer: the
dev server in one pass of tests/check.sh, a real OpenBao in the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from renewer.config import VaultSettings
from renewer.core.heal import MintRequest
from renewer.core.secret import Secret
from renewer.errors import ReauthRequired, VaultDenied
from renewer.vault import HvacVault, RetryPolicy, VaultConnection
from renewer.vault.backends import KVv2, PkiIssuer
from tests import leakguard
from tests.vaultpeer import VaultPeer, ensure_approle, ensure_pki, unique

NOTHING = 'path "secret/data/nothing-here/*" { capabilities = ["read"] }'
MINT = MintRequest(display_name="devvm", policies=("default",), period="1h", explicit_max_ttl=None)

CALLS: dict[str, Callable[[HvacVault], Any]] = {
    "lookup-self": lambda c: c.lookup_self(),
    "renew-self": lambda c: c.renew_self(),
    "mint (create-orphan)": lambda c: c.create_orphan(MINT),
    "list accessors (sweep)": lambda c: c.list_accessors(),
    "lookup-accessor (sweep)": lambda c: c.lookup_accessor("NoSuchAccessor0000000000"),
    "revoke-accessor (sweep)": lambda c: c.revoke_accessor("NoSuchAccessor0000000000"),
    "kv read": lambda c: c.kv_read("secret", "renewer/x"),
    "kv write": lambda c: c.kv_write("secret", "renewer/x", {"k": "v"}, cas=0),
    "pki issue": lambda c: c.pki_issue("pki", "any", common_name="a.example.test"),
    "approle secret-ids": lambda c: c.approle_list_accessors("approle", "any"),
    "approle new secret-id": lambda c: c.approle_generate_secret_id("approle", "any", metadata={}),
}


@pytest.fixture
def connection(vault: VaultPeer) -> Iterator[VaultConnection]:
    ensure_pki(vault)
    ensure_approle(vault)
    settings = VaultSettings(addr=vault.addr, addr_source="config", ca_cert=None)
    with VaultConnection(settings, RetryPolicy.starting_now(5)) as opened:
        yield opened


def token(vault: VaultPeer, *, policy: str | None = None) -> str:
    body: dict[str, Any] = {"ttl": "1h"}
    if policy is not None:
        name = unique("nothing")
        vault.request("PUT", f"sys/policies/acl/{name}", json={"policy": policy})
        body |= {"policies": [name], "no_default_policy": True}
    created = vault.request("POST", "auth/token/create", json=body).json()["auth"]["client_token"]
    leakguard.remember(created)
    return str(created)


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_revoked_token_asks_for_a_login_on_every_call(
    vault: VaultPeer, connection: VaultConnection, call: str
) -> None:
    dead = token(vault)
    assert vault.request("POST", "auth/token/revoke-self", token=dead).status_code == 204

    with pytest.raises(ReauthRequired) as caught:
        CALLS[call](connection.client(Secret(dead)))

    assert caught.value.see.endswith("#reauth-required")
    assert "renewer mint" in caught.value.hint


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_policy_denial_is_a_denial_on_every_call(
    vault: VaultPeer, connection: VaultConnection, call: str
) -> None:
    """The same calls with a live token its policy forbids them: never 'log in again'."""
    live = token(vault, policy=NOTHING)

    with pytest.raises(VaultDenied) as caught:
        CALLS[call](connection.client(Secret(live)))

    assert caught.value.see.endswith("#vault-denied")


def test_the_stores_name_the_sink_whose_token_died(
    vault: VaultPeer, connection: VaultConnection
) -> None:
    """KV and PKI reached with a sink's token say which sink, and how to bring it back."""
    dead = token(vault)
    vault.request("POST", "auth/token/revoke-self", token=dead)
    client = connection.client(Secret(dead))
    recovery = "vault login -method=oidc && renewer mint devvm"

    for use in (
        lambda: KVv2(client, "secret", sink="devvm", recovery=recovery).read("renewer/x"),
        lambda: PkiIssuer(client, "pki", sink="devvm", recovery=recovery).issue(
            "any", common_name="a.example.test"
        ),
    ):
        with pytest.raises(ReauthRequired) as caught:
            use()
        assert "the token of sink 'devvm'" in caught.value.message
        assert caught.value.hint == f"log in again and re-mint it: {recovery}"
