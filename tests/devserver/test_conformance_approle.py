"""Conformance: AppRole at ``auth/approle/`` (reference §8; §11 item 48).

A real ``vault server -dev`` does not mount AppRole; on a real Vault the
fixture enables it once (``sys/auth/approle``) if it is missing.
"""

from __future__ import annotations

import hvac
import hvac.exceptions
import pytest

from tests.devserver.helpers import errors, lookup, put_policy
from tests.vaultpeer import VaultPeer, unique


@pytest.fixture
def approle(vault: VaultPeer) -> hvac.Client:
    """A root client, with AppRole enabled on a real Vault."""
    client = vault.client()
    if not vault.is_dev and "approle/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle")
    return client


def new_role(client: hvac.Client, **settings: object) -> str:
    """A fresh role with *settings*; returns its name."""
    name = unique("role")
    client.auth.approle.create_or_update_approle(role_name=name, **settings)
    return name


class TestAppRole:
    def test_login_with_wrong_secret_is_400(self, approle: hvac.Client) -> None:
        """§11.48: wrong secret ID → 400 ``invalid role or secret ID``."""
        role = new_role(approle, token_policies=["default"])
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]

        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            approle.auth.approle.login(role_id=role_id, secret_id="wrong", use_token=False)

        assert errors(info.value) == ["invalid role or secret ID"]

    def test_login_issues_orphan_approle_token(
        self, vault: VaultPeer, approle: hvac.Client
    ) -> None:
        """§11.48: orphan, display name ``approle``, metadata ``role_name``, role policies."""
        policy = put_policy(vault, 'path "secret/data/app/*" { capabilities = ["read"] }')
        role = new_role(approle, token_policies=[policy], token_ttl="1h", token_max_ttl="4h")
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = approle.auth.approle.generate_secret_id(role)["data"]["secret_id"]

        auth = approle.auth.approle.login(role_id=role_id, secret_id=secret_id, use_token=False)[
            "auth"
        ]
        data = lookup(vault, auth["client_token"])

        assert auth["orphan"] is True
        assert auth["metadata"] == {"role_name": role}
        assert auth["policies"] == sorted(["default", policy])
        assert auth["lease_duration"] == 3600
        assert (data["display_name"], data["path"]) == ("approle", "auth/approle/login")

    def test_login_token_renewal_is_capped_by_token_max_ttl(
        self, vault: VaultPeer, approle: hvac.Client
    ) -> None:
        """Renewals of a login token stop at the role's ``token_max_ttl``."""
        role = new_role(approle, token_ttl="1h", token_max_ttl="2h")
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = approle.auth.approle.generate_secret_id(role)["data"]["secret_id"]
        token = approle.auth.approle.login(role_id=role_id, secret_id=secret_id, use_token=False)[
            "auth"
        ]["client_token"]

        reply = vault.client(token).auth.token.renew_self(increment="5h")

        assert 7190 <= reply["auth"]["lease_duration"] <= 7200
        assert reply["warnings"]

    def test_secret_id_generation_shape_and_list(self, approle: hvac.Client) -> None:
        """Generate → ``secret_id, secret_id_accessor, secret_id_ttl, secret_id_num_uses``."""
        role = new_role(approle, secret_id_ttl="10m", secret_id_num_uses=3)

        data = approle.auth.approle.generate_secret_id(role)["data"]
        accessors = approle.auth.approle.list_secret_id_accessors(role)["data"]["keys"]

        assert set(data) >= {"secret_id", "secret_id_accessor", "secret_id_ttl"}
        assert (data["secret_id_ttl"], data["secret_id_num_uses"]) == (600, 3)
        assert accessors == [data["secret_id_accessor"]]

    def test_secret_id_lookup_and_destroy(self, approle: hvac.Client) -> None:
        """Lookups by secret ID and by accessor agree; destroy removes it."""
        role = new_role(approle)
        data = approle.auth.approle.generate_secret_id(role, metadata={"host": "devvm"})["data"]

        by_id = approle.auth.approle.read_secret_id(role, data["secret_id"])["data"]
        by_accessor = approle.auth.approle.read_secret_id_accessor(
            role, data["secret_id_accessor"]
        )["data"]
        approle.auth.approle.destroy_secret_id_accessor(role, data["secret_id_accessor"])

        assert by_id["secret_id_accessor"] == by_accessor["secret_id_accessor"]
        assert by_id["metadata"] == {"host": "devvm"}
        with pytest.raises(hvac.exceptions.InvalidPath):
            approle.auth.approle.list_secret_id_accessors(role)

    def test_secret_id_num_uses_is_honoured(self, approle: hvac.Client) -> None:
        """A secret ID with one use logs in once; the second login is refused."""
        role = new_role(approle, secret_id_num_uses=1)
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = approle.auth.approle.generate_secret_id(role)["data"]["secret_id"]

        approle.auth.approle.login(role_id=role_id, secret_id=secret_id, use_token=False)
        with pytest.raises(hvac.exceptions.InvalidRequest):
            approle.auth.approle.login(role_id=role_id, secret_id=secret_id, use_token=False)

    def test_secret_id_ttl_is_honoured(self, vault: VaultPeer, approle: hvac.Client) -> None:
        """A secret ID past its TTL (virtual clock) no longer logs in."""
        vault.require_dev()
        role = new_role(approle, secret_id_ttl="10m")
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = approle.auth.approle.generate_secret_id(role)["data"]["secret_id"]

        vault.advance(601)

        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            approle.auth.approle.login(role_id=role_id, secret_id=secret_id, use_token=False)
        assert errors(info.value) == ["invalid role or secret ID"]

    def test_custom_role_id_and_role_crud(self, approle: hvac.Client) -> None:
        """Custom role IDs; read, list and delete roles."""
        role = new_role(approle, token_policies=["default"], token_ttl=120)
        custom = unique("role-id")

        approle.auth.approle.update_role_id(role, custom)
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]
        read = approle.auth.approle.read_role(role)["data"]
        listed = approle.auth.approle.list_roles()["data"]["keys"]
        approle.auth.approle.delete_role(role)

        assert role_id == custom
        assert read["token_policies"] == ["default"]
        assert read["token_ttl"] == 120
        assert role in listed
        with pytest.raises(hvac.exceptions.InvalidPath):
            approle.auth.approle.read_role(role)

    def test_login_is_unauthenticated(self, vault: VaultPeer, approle: hvac.Client) -> None:
        """Login needs no token at all."""
        role = new_role(approle)
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = approle.auth.approle.generate_secret_id(role)["data"]["secret_id"]

        response = vault.request(
            "POST",
            "auth/approle/login",
            token="",
            json={"role_id": role_id, "secret_id": secret_id},
        )

        assert response.status_code == 200
        assert response.json()["auth"]["token_type"] == "service"
