"""Conformance: revocation, the token tree, accessors, batch and limited-use tokens.

Reference §2.4, §2.5, §4, §6; §11 items 33-40.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import hvac.exceptions
import pytest

from tests.devserver.differences import BATCH_TOKEN_PREFIXES
from tests.devserver.helpers import (
    CREATE_ONLY,
    INVALID_TOKEN,
    INVALID_TOKEN_VARIANTS,
    create_reply,
    errors,
    lookup,
    make_token,
    put_policy,
)
from tests.vaultpeer import VaultPeer


def is_gone(vault: VaultPeer, token: str) -> bool:
    """Lookup of *token* answers 403 ``bad token``."""
    response = vault.request("POST", "auth/token/lookup", json={"token": token})
    return response.status_code == 403 and response.json() == {"errors": ["bad token"]}


class TestRevoke:
    def test_every_revoke_endpoint_answers_204_empty(self, vault: VaultPeer) -> None:
        """§11.33: revoke-self, revoke, revoke-accessor, revoke-orphan → 204, no body."""
        tokens = [create_reply(vault, policies=["default"])["auth"] for _ in range(4)]
        responses = [
            vault.request("POST", "auth/token/revoke-self", token=tokens[0]["client_token"]),
            vault.request("POST", "auth/token/revoke", json={"token": tokens[1]["client_token"]}),
            vault.request(
                "POST", "auth/token/revoke-accessor", json={"accessor": tokens[2]["accessor"]}
            ),
            vault.request(
                "POST", "auth/token/revoke-orphan", json={"token": tokens[3]["client_token"]}
            ),
        ]

        assert [(r.status_code, r.content) for r in responses] == [(204, b"")] * 4
        assert all(is_gone(vault, t["client_token"]) for t in tokens)

    def test_revoke_unknown_token_is_204(self, vault: VaultPeer) -> None:
        """§11.34: revoking a token that does not exist is a silent success."""
        response = vault.request(
            "POST", "auth/token/revoke", json={"token": "hvs.thisTokenDoesNotExist00"}
        )

        assert response.status_code == 204

    def test_revoke_accessor_unknown_is_200_with_warning(self, vault: VaultPeer) -> None:
        """§11.35: unknown accessor → 200 + warning (older Vaults: 400 ``invalid accessor``)."""
        response = vault.request(
            "POST", "auth/token/revoke-accessor", json={"accessor": "NoSuchAccessor0000000000"}
        )

        if vault.is_dev or response.status_code == 200:
            assert response.status_code == 200
            assert response.json()["warnings"] == ["No token found with this accessor"]
            assert response.json()["data"] is None
        else:
            assert response.status_code == 400
            assert response.json() == {"errors": ["invalid accessor"]}

    def test_revoking_a_parent_revokes_all_descendants(self, vault: VaultPeer) -> None:
        """§11.36: the subtree goes; lookups say ``bad token``, use is 403."""
        creator = put_policy(vault, CREATE_ONLY)
        parent = make_token(vault, policies=[creator])
        child = make_token(vault, token=parent)
        grandchild = make_token(vault, token=child)

        vault.client().auth.token.revoke(parent)

        assert all(is_gone(vault, t) for t in (parent, child, grandchild))
        response = vault.request("GET", "auth/token/lookup-self", token=grandchild)
        assert response.status_code == 403
        assert response.json()["errors"][0] in INVALID_TOKEN_VARIANTS

    def test_revoke_orphan_keeps_children_as_orphans(self, vault: VaultPeer) -> None:
        """§11.37: revoke-orphan removes only the token; its children become orphans."""
        creator = put_policy(vault, CREATE_ONLY)
        parent = make_token(vault, policies=[creator])
        child = make_token(vault, token=parent)
        grandchild = make_token(vault, token=child)
        assert lookup(vault, child)["orphan"] is False

        vault.client().auth.token.revoke_and_orphan_children(parent)

        assert is_gone(vault, parent)
        assert lookup(vault, child)["orphan"] is True
        assert lookup(vault, grandchild)["orphan"] is False

    def test_revoke_orphan_without_sudo_is_400(self, vault: VaultPeer) -> None:
        """§11.37: ``update`` but no ``sudo`` on revoke-orphan → 400, checked by the handler."""
        orphaner = put_policy(
            vault, 'path "auth/token/revoke-orphan" { capabilities = ["update"] }'
        )
        caller = make_token(vault, policies=[orphaner])
        victim = make_token(vault, policies=["default"])

        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            vault.client(caller).auth.token.revoke_and_orphan_children(victim)

        assert errors(info.value) == ["root or sudo privileges required to revoke and orphan"]
        assert not is_gone(vault, victim)


class TestAccessors:
    def test_list_accessors_by_list_method_and_get_query(self, vault: VaultPeer) -> None:
        """§11.38: ``LIST accessors`` and ``GET accessors?list=true`` give ``data.keys``."""
        accessor = create_reply(vault, policies=["default"])["auth"]["accessor"]

        listed = vault.client().auth.token.list_accessors()["data"]["keys"]
        queried = vault.request("GET", "auth/token/accessors", params={"list": "true"})

        assert accessor in listed
        assert accessor in queried.json()["data"]["keys"]

    def test_list_accessors_needs_sudo(self, vault: VaultPeer) -> None:
        """§11.38: ``list`` without ``sudo`` → 403; with ``sudo`` → 200."""
        lister = put_policy(vault, 'path "auth/token/accessors" { capabilities = ["list"] }')
        sudoer = put_policy(
            vault, 'path "auth/token/accessors" { capabilities = ["list", "sudo"] }'
        )

        with pytest.raises(hvac.exceptions.Forbidden):
            vault.client(make_token(vault, policies=[lister])).auth.token.list_accessors()
        keys = vault.client(make_token(vault, policies=[sudoer])).auth.token.list_accessors()

        assert keys["data"]["keys"]

    def test_revoked_token_leaves_the_accessor_list(self, vault: VaultPeer) -> None:
        """§11.38: the accessor of a revoked token is no longer listed."""
        reply = create_reply(vault, policies=["default"])
        vault.client().auth.token.revoke(reply["auth"]["client_token"])

        listed = vault.client().auth.token.list_accessors()["data"]["keys"]

        assert reply["auth"]["accessor"] not in listed


class TestBatchTokens:
    def test_batch_token_shape(self, vault: VaultPeer) -> None:
        """§11.39: ``hvb.`` (OpenBao ``b.``) prefix, no accessor, not renewable, type ``batch``."""
        reply = create_reply(vault, policies=["default"], type="batch", ttl="1h")
        auth = reply["auth"]

        assert auth["client_token"].startswith(BATCH_TOKEN_PREFIXES)
        assert (auth["accessor"], auth["renewable"], auth["token_type"]) == ("", False, "batch")
        assert lookup(vault, auth["client_token"])["type"] == "batch"

    def test_batch_token_cannot_renew_revoke_or_create(self, vault: VaultPeer) -> None:
        """§11.39: renew, revoke and child creation with a batch token → 400."""
        creator = put_policy(vault, CREATE_ONLY)
        token = create_reply(vault, policies=[creator], type="batch")["auth"]["client_token"]
        batch_client, root_client = vault.client(token), vault.client()
        cases: list[tuple[Callable[[], object], str]] = [
            (batch_client.auth.token.renew_self, "batch tokens cannot be renewed"),
            (partial(root_client.auth.token.revoke, token), "batch tokens cannot be revoked"),
            (
                partial(batch_client.auth.token.create, policies=[creator]),
                "batch tokens cannot create more tokens",
            ),
        ]
        for call, message in cases:
            with pytest.raises(hvac.exceptions.InvalidRequest) as info:
                call()
            assert errors(info.value) == [message]

    def test_batch_token_stops_working_with_its_parent(self, vault: VaultPeer) -> None:
        """A non-orphan batch token dies with its parent."""
        creator = put_policy(vault, CREATE_ONLY)
        parent = make_token(vault, policies=[creator])
        batch = make_token(vault, token=parent, type="batch")

        vault.client().auth.token.revoke(parent)

        assert vault.request("GET", "auth/token/lookup-self", token=batch).status_code == 403

    def test_batch_with_period_is_refused(self, vault: VaultPeer) -> None:
        """Batch tokens cannot be periodic (400)."""
        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            vault.client().auth.token.create(type="batch", period="1h")

        assert errors(info.value) == ['batch tokens cannot have "period" set']


class TestLimitedUse:
    def test_num_uses_token_works_n_times_then_403(self, vault: VaultPeer) -> None:
        """§11.40: ``num_uses: 3`` → three requests succeed, the fourth is 403."""
        token = make_token(vault, policies=["default"], num_uses=3)

        statuses = [
            vault.request("GET", "auth/token/lookup-self", token=token).status_code
            for _ in range(4)
        ]

        assert statuses == [200, 200, 200, 403]
        if vault.is_dev:
            last = vault.request("GET", "auth/token/lookup-self", token=token)
            assert last.json() == {"errors": [INVALID_TOKEN]}

    def test_num_uses_counts_down_in_lookup(self, vault: VaultPeer) -> None:
        """Each authenticated request spends a use before the handler runs."""
        token = make_token(vault, policies=["default"], num_uses=5)

        first = lookup(vault, token)["num_uses"]
        second = lookup(vault, token)["num_uses"]

        assert (first, second) == (4, 3)

    def test_limited_use_token_cannot_create_children(self, vault: VaultPeer) -> None:
        """§11.40: a token with uses left cannot mint children (400)."""
        creator = put_policy(vault, CREATE_ONLY)
        token = make_token(vault, policies=[creator], num_uses=5)

        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            vault.client(token).auth.token.create(policies=[creator])

        assert errors(info.value) == ["restricted use token cannot generate child tokens"]
