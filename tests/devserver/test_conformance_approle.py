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
        """A secret ID past its TTL no longer logs in (a real server: real seconds)."""
        role = new_role(approle, secret_id_ttl="2s")
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = approle.auth.approle.generate_secret_id(role)["data"]["secret_id"]

        vault.elapse(3)

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


class TestSecretIdRotationShapes:
    """What a blue/green secret-id rotation relies on (reference §8)."""

    def test_two_secret_ids_coexist_and_each_logs_in(self, approle: hvac.Client) -> None:
        """Blue and green are both valid until one is destroyed."""
        role = new_role(approle)
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]
        blue = approle.auth.approle.generate_secret_id(role)["data"]
        green = approle.auth.approle.generate_secret_id(role)["data"]

        listed = approle.auth.approle.list_secret_id_accessors(role)["data"]["keys"]
        approle.auth.approle.destroy_secret_id_accessor(role, blue["secret_id_accessor"])

        assert sorted(listed) == sorted([blue["secret_id_accessor"], green["secret_id_accessor"]])
        login = approle.auth.approle.login
        login(role_id=role_id, secret_id=green["secret_id"], use_token=False)
        with pytest.raises(hvac.exceptions.InvalidRequest):
            login(role_id=role_id, secret_id=blue["secret_id"], use_token=False)

    def test_lookup_of_an_unknown_secret_id_is_204(
        self, vault: VaultPeer, approle: hvac.Client
    ) -> None:
        """No body at all: the caller cannot tell unknown from destroyed."""
        role = new_role(approle)
        response = vault.request(
            "POST", f"auth/approle/role/{role}/secret-id/lookup", json={"secret_id": "nope"}
        )
        assert (response.status_code, response.content) == (204, b"")

    def test_lookup_of_an_unknown_accessor_is_404_with_data_error(
        self, vault: VaultPeer, approle: hvac.Client
    ) -> None:
        """Vault >= 1.9: RespondWithStatusCode(404), the message under data.error."""
        role = new_role(approle)
        response = vault.request(
            "POST",
            f"auth/approle/role/{role}/secret-id-accessor/lookup",
            json={"secret_id_accessor": "0e2d34aa-0000-0000-0000-000000000000"},
        )
        assert response.status_code == 404
        assert (
            "failed to find accessor entry for secret_id_accessor"
            in (response.json()["data"]["error"])
        )

    def test_destroying_an_unknown_accessor_is_a_500(
        self, vault: VaultPeer, approle: hvac.Client
    ) -> None:
        """The handler returns a plain error: an internal error, not a 4xx."""
        client = approle
        role = new_role(client)
        accessor = client.auth.approle.generate_secret_id(role)["data"]["secret_id_accessor"]
        client.auth.approle.destroy_secret_id_accessor(role, accessor)

        response = vault.request(
            "POST",
            f"auth/approle/role/{role}/secret-id-accessor/destroy",
            json={"secret_id_accessor": accessor},
        )

        assert response.status_code == 500
        assert "failed to find accessor entry for secret_id_accessor" in response.text

    def test_metadata_is_returned_by_accessor_lookup(self, approle: hvac.Client) -> None:
        """A rotation finds its own leftovers by the metadata it set."""
        role = new_role(approle)
        metadata = {"created-by": "renewer", "rotation": "ci"}
        accessor = approle.auth.approle.generate_secret_id(role, metadata=metadata)["data"][
            "secret_id_accessor"
        ]
        looked_up = approle.auth.approle.read_secret_id_accessor(role, accessor)["data"]
        assert looked_up["metadata"] == metadata

    def test_a_secret_id_of_another_role_does_not_log_in(self, approle: hvac.Client) -> None:
        """Login checks the secret-id belongs to the role of the role-id."""
        first, second = new_role(approle), new_role(approle)
        role_id = approle.auth.approle.read_role_id(first)["data"]["role_id"]
        other = approle.auth.approle.generate_secret_id(second)["data"]["secret_id"]
        with pytest.raises(hvac.exceptions.InvalidRequest):
            approle.auth.approle.login(role_id=role_id, secret_id=other, use_token=False)

    def test_a_login_token_can_revoke_itself(self, vault: VaultPeer, approle: hvac.Client) -> None:
        """Validation logs in and revokes the token at once: nothing is left behind."""
        role = new_role(approle, token_ttl="1h")
        role_id = approle.auth.approle.read_role_id(role)["data"]["role_id"]
        secret_id = approle.auth.approle.generate_secret_id(role)["data"]["secret_id"]
        token = approle.auth.approle.login(role_id=role_id, secret_id=secret_id, use_token=False)[
            "auth"
        ]["client_token"]

        vault.client(token).auth.token.revoke_self()

        with pytest.raises(hvac.exceptions.Forbidden):
            vault.client(token).auth.token.lookup_self()

    def test_expired_secret_ids_stay_listed_until_destroyed(
        self, vault: VaultPeer, approle: hvac.Client
    ) -> None:
        """An expired secret-id stays in LIST; its lookups answer 204, its destroy 204
        removes it (OpenBao 2.7.2; expiry alone does not remove it, a tidy would)."""
        role = new_role(approle)
        lasting = approle.auth.approle.generate_secret_id(role)["data"]  # role default: no TTL
        approle.auth.approle.create_or_update_approle(role_name=role, secret_id_ttl="2s")
        expiring = approle.auth.approle.generate_secret_id(role)["data"]
        accessor = expiring["secret_id_accessor"]
        base = f"auth/approle/role/{role}"

        vault.elapse(3)
        listed = approle.auth.approle.list_secret_id_accessors(role)["data"]["keys"]
        by_id = vault.request(
            "POST", f"{base}/secret-id/lookup", json={"secret_id": expiring["secret_id"]}
        )
        by_accessor = vault.request(
            "POST", f"{base}/secret-id-accessor/lookup", json={"secret_id_accessor": accessor}
        )
        destroyed = vault.request(
            "POST", f"{base}/secret-id-accessor/destroy", json={"secret_id_accessor": accessor}
        )
        after = approle.auth.approle.list_secret_id_accessors(role)["data"]["keys"]

        assert sorted(listed) == sorted([lasting["secret_id_accessor"], accessor])
        assert (by_id.status_code, by_accessor.status_code) == (204, 204)
        assert destroyed.status_code == 204
        assert after == [lasting["secret_id_accessor"]]
