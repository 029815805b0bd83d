"""renewer.vault's AppRole calls against the Vault peer: renewer values out, quirks absorbed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from renewer.config import VaultSettings
from renewer.core.secret import Secret
from renewer.errors import VaultError
from renewer.vault import HvacVault, RetryPolicy, VaultConnection
from tests import leakguard
from tests.vaultpeer import VaultPeer, unique


@pytest.fixture
def root(vault: VaultPeer) -> Iterator[HvacVault]:
    """Our client with the root token; AppRole enabled on a real Vault."""
    client = vault.client()
    if not vault.is_dev and "approle/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("approle")
    settings = VaultSettings(addr=vault.addr, addr_source="config", ca_cert=None)
    with VaultConnection(settings, RetryPolicy.starting_now(5)) as connection:
        yield connection.client(Secret(vault.root_token))


@pytest.fixture
def role(vault: VaultPeer, root: HvacVault) -> str:
    name = unique("role")
    vault.client().auth.approle.create_or_update_approle(role_name=name, token_ttl="10m")
    return name


class TestAppRoleCalls:
    def test_generate_lookup_list_and_destroy(self, root: HvacVault, role: str) -> None:
        """The secret-id rotation's calls, end to end; destroying twice is not an error."""
        grant = root.approle_generate_secret_id(
            "approle", role, metadata={"created-by": "renewer", "rotation": "ci"}
        )
        leakguard.remember(grant.secret_id.reveal())

        by_value = root.approle_lookup_secret_id("approle", role, grant.secret_id)
        by_accessor = root.approle_lookup_accessor("approle", role, grant.accessor)
        listed = root.approle_list_accessors("approle", role)
        first = root.approle_destroy_accessor("approle", role, grant.accessor)
        second = root.approle_destroy_accessor("approle", role, grant.accessor)

        assert by_value is not None and by_value.accessor == grant.accessor
        assert by_accessor is not None
        assert by_accessor.metadata == {"created-by": "renewer", "rotation": "ci"}
        assert listed == [grant.accessor]
        assert (first, second) == (True, False)
        assert root.approle_lookup_accessor("approle", role, grant.accessor) is None
        assert root.approle_lookup_secret_id("approle", role, grant.secret_id) is None
        assert root.approle_list_accessors("approle", role) == []

    def test_login_returns_a_registered_token(self, root: HvacVault, role: str) -> None:
        """Login works without a token and the minted token never prints."""
        grant = root.approle_generate_secret_id("approle", role, metadata={})
        role_id = root.approle_role_id("approle", role)
        auth = root.approle_login("approle", role_id, grant.secret_id)
        leakguard.remember(grant.secret_id.reveal(), auth.client_token.reveal())
        assert auth.accessor and auth.lease_duration == 600
        assert repr(grant).count("Secret") == 1 and grant.secret_id.reveal() not in repr(grant)

    def test_a_wrong_secret_id_is_a_400_not_an_outage(self, root: HvacVault, role: str) -> None:
        """Validation must see a definite refusal, not a retry loop."""
        role_id = root.approle_role_id("approle", role)
        with pytest.raises(VaultError) as info:
            root.approle_login("approle", role_id, Secret("not-a-secret-id"))
        assert info.value.status == 400
        assert "invalid role or secret ID" in info.value.message

    def test_an_unknown_accessor_is_none_and_false(self, root: HvacVault, role: str) -> None:
        """404/500 'failed to find accessor entry' mean gone, not broken."""
        accessor = "0e2d34aa-0000-0000-0000-000000000000"
        assert root.approle_lookup_accessor("approle", role, accessor) is None
        assert root.approle_destroy_accessor("approle", role, accessor) is False

    def test_a_denied_generate_is_a_denial(self, vault: VaultPeer, role: str) -> None:
        """A token without the policy is refused: nothing was created."""
        token = vault.client().auth.token.create(policies=["default"])["auth"]["client_token"]
        leakguard.remember(token)
        settings = VaultSettings(addr=vault.addr, addr_source="config", ca_cert=None)
        with VaultConnection(settings, RetryPolicy.starting_now(5)) as connection:
            weak = connection.client(Secret(token))
            with pytest.raises(VaultError, match="permission denied"):
                weak.approle_generate_secret_id("approle", role, metadata={})
