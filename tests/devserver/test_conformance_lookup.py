"""Conformance: authentication and lookups (reference §2.2, §7; §11 items 5-9, 11, 12)."""

from __future__ import annotations

import re

import hvac.exceptions
import pytest

from renewer.devserver.protocol import multierror
from tests.devserver.differences import SERVICE_TOKEN_PREFIXES
from tests.devserver.helpers import (
    DENIED,
    INVALID_TOKEN,
    INVALID_TOKEN_VARIANTS,
    LOOKUP_FIELDS,
    errors,
    lookup,
    make_token,
)
from tests.vaultpeer import VaultPeer


def assert_invalid_token(vault: VaultPeer, token: str) -> None:
    """Using *token* is a 403 with the invalid-token text (exactly ours on the dev server)."""
    response = vault.request("GET", "auth/token/lookup-self", token=token)
    assert response.status_code == 403
    messages = response.json()["errors"]
    if vault.is_dev:
        assert messages == [INVALID_TOKEN]
    else:
        assert messages[0] in INVALID_TOKEN_VARIANTS


class TestAuthentication:
    def test_lookup_self_of_default_token_has_every_field(self, vault: VaultPeer) -> None:
        """§11.5: GET lookup-self with a default-policy token → 200 with all fields."""
        token = make_token(vault, policies=["default"], display_name="fields", ttl="1h")

        data = lookup(vault, token)

        assert set(data) >= LOOKUP_FIELDS
        assert data["id"] == token
        assert data["policies"] == ["default"]
        assert data["path"] == "auth/token/create"
        assert data["type"] == "service"
        assert data["orphan"] is False

    def test_post_lookup_self_with_default_only_is_403(self, vault: VaultPeer) -> None:
        """§11.6: the default policy grants ``read`` on lookup-self, not ``update``."""
        token = make_token(vault, policies=["default"])

        response = vault.request("POST", "auth/token/lookup-self", token=token, json={})

        assert response.status_code == 403
        assert response.json() == {"errors": [DENIED]}

    def test_missing_token_is_403_permission_denied(self, vault: VaultPeer) -> None:
        """§11.7: no ``X-Vault-Token`` on an authenticated path → plain ``permission denied``."""
        response = vault.request("GET", "auth/token/lookup-self", token="")

        assert response.status_code == 403
        assert response.json() == {"errors": ["permission denied"]}

    def test_unknown_and_revoked_tokens_are_403_invalid_token(self, vault: VaultPeer) -> None:
        """§11.8: an unknown or revoked caller token → 403, the 1.17+ two-error text."""
        token = make_token(vault, policies=["default"])
        vault.client(token).auth.token.revoke_self()

        assert_invalid_token(vault, "hvs.thisTokenDoesNotExist00")
        assert_invalid_token(vault, token)

    def test_expired_token_is_403_invalid_token(self, vault: VaultPeer) -> None:
        """§11.8: once its TTL has passed, the token is invalid (a real server: real seconds)."""
        token = make_token(vault, policies=["default"], ttl="2s")

        vault.elapse(3)

        assert_invalid_token(vault, token)

    def test_legacy_invalid_token_switch_gives_plain_text(self) -> None:
        """§11.8 switch: the pre-1.17 / OpenBao form is plain ``permission denied``."""
        from renewer.devserver import DevServer

        with DevServer(root_token="r00t", legacy_invalid_token=True) as server:
            client = hvac.Client(url=server.addr, token="nope", timeout=5)
            with pytest.raises(hvac.exceptions.Forbidden) as info:
                client.auth.token.lookup_self()

        assert errors(info.value) == ["permission denied"]

    def test_valid_token_without_capability_is_403_one_error(self, vault: VaultPeer) -> None:
        """§11.9: a policy denial is the one-error multierror text."""
        token = make_token(vault, policies=["default"])

        response = vault.request("GET", "secret/data/not-for-you", token=token)

        assert response.status_code == 403
        assert response.json() == {"errors": [DENIED]}


class TestLookup:
    def test_lookup_of_unknown_token_is_403_bad_token(self, vault: VaultPeer) -> None:
        """§11.11: lookup of a token that does not exist → 403 ``bad token``."""
        with pytest.raises(hvac.exceptions.Forbidden) as info:
            vault.client().auth.token.lookup("hvs.thisTokenDoesNotExist00")

        assert errors(info.value) == ["bad token"]

    def test_lookup_without_token_field_returns_callers_own(self, vault: VaultPeer) -> None:
        """§11.11: ``POST lookup {}`` falls back to the caller's own token."""
        response = vault.request("POST", "auth/token/lookup", json={})

        assert response.status_code == 200
        assert response.json()["data"]["id"] == vault.root_token

    def test_lookup_accessor_blanks_id(self, vault: VaultPeer) -> None:
        """§11.12: lookup-accessor returns the lookup data with ``id: ""``."""
        reply = vault.client().auth.token.create(policies=["default"], display_name="acc")

        data = vault.client().auth.token.lookup_accessor(reply["auth"]["accessor"])["data"]

        assert data["id"] == ""
        assert data["accessor"] == reply["auth"]["accessor"]
        assert data["display_name"] == "token-acc"

    def test_lookup_accessor_unknown_or_missing_is_400(self, vault: VaultPeer) -> None:
        """§11.12: unknown → 400 ``invalid accessor``; missing → 400 ``missing accessor``.

        Both are the handler's Go errors (``&logical.StatusBadRequest``), so they arrive
        multierror-wrapped, unlike an error response's bare text."""
        client = vault.client()
        with pytest.raises(hvac.exceptions.InvalidRequest) as unknown:
            client.auth.token.lookup_accessor("NoSuchAccessor0000000000")
        with pytest.raises(hvac.exceptions.InvalidRequest) as missing:
            client.auth.token.lookup_accessor("")

        assert errors(unknown.value) == [multierror("invalid accessor")]
        assert errors(missing.value) == [multierror("missing accessor")]

    def test_token_ids_and_accessors_look_like_vaults(self, vault: VaultPeer) -> None:
        """Service tokens start ``hvs.`` (OpenBao: ``s.``); accessors are 24 base62 characters."""
        reply = vault.client().auth.token.create(policies=["default"])

        assert reply["auth"]["client_token"].startswith(SERVICE_TOKEN_PREFIXES)
        assert re.fullmatch(r"[0-9A-Za-z]{24}", reply["auth"]["accessor"])

    def test_root_token_lookup(self, vault: VaultPeer) -> None:
        """The ``-dev-root-token-id`` root token: created through the token store."""
        data = vault.client().auth.token.lookup_self()["data"]

        assert data["policies"] == ["root"]
        assert data["path"] == "auth/token/create"
        assert data["display_name"] == "token"
        assert (data["ttl"], data["creation_ttl"], data["expire_time"]) == (0, 0, None)
        assert data["orphan"] is True
