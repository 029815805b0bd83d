"""Conformance: token creation (reference §2.1, §3, §4, §5; §11 items 13-23)."""

from __future__ import annotations

import hvac.exceptions
import pytest

from tests.devserver.helpers import (
    CREATE_ONLY,
    create_reply,
    errors,
    lookup,
    make_token,
    put_policy,
)
from tests.vaultpeer import VaultPeer, unique


class TestPolicies:
    def test_root_create_adds_default_and_warns_missing(self, vault: VaultPeer) -> None:
        """§11.13: named policies + ``default``, sorted; a warning per missing policy."""
        web, stage = unique("web"), unique("stage")

        reply = create_reply(vault, policies=[web, stage])

        assert reply["auth"]["policies"] == ["default", stage, web]
        assert reply["auth"]["token_policies"] == ["default", stage, web]
        assert reply["warnings"] == [
            f'Policy "{stage}" does not exist',
            f'Policy "{web}" does not exist',
        ]

    def test_create_without_policies_inherits_parents(self, vault: VaultPeer) -> None:
        """§11.14: no ``policies`` → exactly the parent's set."""
        creator = put_policy(vault, CREATE_ONLY)
        parent = make_token(vault, policies=[creator])

        child = make_token(vault, token=parent)

        assert lookup(vault, child)["policies"] == sorted([creator, "default"])

    def test_non_sudo_child_policies_must_be_subset(self, vault: VaultPeer) -> None:
        """§11.15: a policy the parent lacks → 400 ``child policies must be subset of parent``."""
        creator = put_policy(vault, CREATE_ONLY)
        parent = make_token(vault, policies=[creator])

        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            vault.client(parent).auth.token.create(policies=[creator, unique("other")])

        assert errors(info.value) == ["child policies must be subset of parent"]

    def test_non_sudo_subset_request_keeps_default(self, vault: VaultPeer) -> None:
        """A subset request by a non-sudo parent with ``default`` gets ``default`` too."""
        creator = put_policy(vault, CREATE_ONLY)
        parent = make_token(vault, policies=[creator])

        child = make_token(vault, token=parent, policies=[creator])

        assert lookup(vault, child)["policies"] == sorted([creator, "default"])

    def test_policy_names_are_normalised_and_root_collapses(self, vault: VaultPeer) -> None:
        """§11.20: lower-cased, trimmed, de-duplicated, sorted; ``root`` swallows the rest."""
        name = unique("mixed")

        normal = create_reply(vault, policies=[f" {name.upper()} ", name, "Default"])
        root = create_reply(vault, policies=["web", "ROOT"])

        assert normal["auth"]["policies"] == ["default", name]
        assert root["auth"]["policies"] == ["root"]

    def test_no_default_policy_strips_default(self, vault: VaultPeer) -> None:
        """``no_default_policy`` removes ``default`` even when listed."""
        name = unique("nodef")

        reply = create_reply(vault, policies=[name, "default"], no_default_policy=True)

        assert reply["auth"]["policies"] == [name]


class TestSudoRequirements:
    def test_non_sudo_periodic_orphan_and_id_are_400(self, vault: VaultPeer) -> None:
        """§11.16: period, no_parent and id each need root or sudo (400, not 403)."""
        creator = put_policy(vault, CREATE_ONLY)
        client = vault.client(make_token(vault, policies=[creator]))
        cases: dict[str, dict[str, object]] = {
            "create periodic token": {"period": "1h"},
            "create orphan token": {"no_parent": True},
            "specify token id": {"id": unique("custom")},
        }
        for what, kwargs in cases.items():
            with pytest.raises(hvac.exceptions.InvalidRequest) as info:
                client.auth.token.create(**kwargs)
            assert errors(info.value) == [f"root or sudo privileges required to {what}"]

    def test_sudo_on_create_path_allows_period_and_orphan(self, vault: VaultPeer) -> None:
        """``sudo`` on auth/token/create is enough for a periodic orphan (no root needed)."""
        sudo = put_policy(vault, 'path "auth/token/create" { capabilities = ["update", "sudo"] }')
        client = vault.client(make_token(vault, policies=[sudo]))

        reply = client.auth.token.create(period="1h", no_parent=True, policies=["default"])

        assert reply["auth"]["orphan"] is True
        assert reply["auth"]["lease_duration"] == 3600

    def test_create_orphan_needs_only_update(self, vault: VaultPeer) -> None:
        """§11.17: create-orphan with only ``update`` on it → 200, ``orphan: true``."""
        orphaner = put_policy(
            vault, 'path "auth/token/create-orphan" { capabilities = ["update"] }'
        )
        client = vault.client(make_token(vault, policies=[orphaner]))

        reply = client.auth.token.create_orphan(policies=[orphaner])

        assert reply["auth"]["orphan"] is True
        assert lookup(vault, reply["auth"]["client_token"])["path"] == "auth/token/create-orphan"

    def test_create_policy_with_only_create_capability_is_denied(self, vault: VaultPeer) -> None:
        """Token-store POSTs are ``update`` (no existence check): ``create`` alone → 403."""
        create_cap = put_policy(vault, 'path "auth/token/create" { capabilities = ["create"] }')
        client = vault.client(make_token(vault, policies=[create_cap]))

        with pytest.raises(hvac.exceptions.Forbidden):
            client.auth.token.create(policies=[create_cap])

    def test_root_policy_child_needs_root_parent(self, vault: VaultPeer) -> None:
        """A sudo (non-root) parent cannot mint a ``root`` token."""
        sudo = put_policy(vault, 'path "auth/token/create" { capabilities = ["update", "sudo"] }')
        client = vault.client(make_token(vault, policies=[sudo]))

        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            client.auth.token.create(policies=["root"])

        assert errors(info.value) == [
            "root tokens may not be created without parent token being root"
        ]


class TestDisplayName:
    @pytest.mark.parametrize(
        ("requested", "expected"),
        [("devvm-wizard", "token-devvm-wizard"), ("My App_1.", "token-My-App-1")],
    )
    def test_display_name_is_prefixed_and_sanitised(
        self, vault: VaultPeer, requested: str, expected: str
    ) -> None:
        """§11.18: ``token-`` prefix, unsafe chars → ``-``, one trailing ``-`` off, case kept."""
        token = make_token(vault, policies=["default"], display_name=requested)

        assert lookup(vault, token)["display_name"] == expected

    def test_omitted_display_name_is_token(self, vault: VaultPeer) -> None:
        """§11.18: no display name → ``token``."""
        response = vault.request("POST", "auth/token/create", json={"policies": ["default"]})
        token = response.json()["auth"]["client_token"]

        assert lookup(vault, token)["display_name"] == "token"

    def test_hvac_defaults_give_token_token(self, vault: VaultPeer) -> None:
        """§11.19: hvac sends ``display_name="token"`` → ``token-token``."""
        token = make_token(vault)

        assert lookup(vault, token)["display_name"] == "token-token"


class TestCreateTTL:
    def test_default_ttl_is_768h(self, vault: VaultPeer) -> None:
        """§11.21: no ``ttl`` → 2,764,800 s."""
        reply = create_reply(vault, policies=["default"])

        assert reply["auth"]["lease_duration"] == 2764800
        assert reply["auth"]["renewable"] is True

    def test_ttl_is_honoured_and_kept_as_creation_ttl(self, vault: VaultPeer) -> None:
        """§11.21: ``ttl: "1h"`` → 3600 and lookup ``creation_ttl`` 3600."""
        reply = create_reply(vault, policies=["default"], ttl="1h")

        assert reply["auth"]["lease_duration"] == 3600
        assert lookup(vault, reply["auth"]["client_token"])["creation_ttl"] == 3600

    def test_ttl_above_max_is_capped_with_warning(self, vault: VaultPeer) -> None:
        """§11.22: 800h > the 768h max → capped, with Vault's warning text."""
        reply = create_reply(vault, policies=["default"], ttl="800h")

        assert reply["auth"]["lease_duration"] == 2764800
        assert reply["warnings"] == [
            'TTL of "800h" exceeded the effective max_ttl of "768h"; '
            "TTL value is capped accordingly"
        ]

    def test_explicit_max_ttl_caps_the_creation_ttl(self, vault: VaultPeer) -> None:
        """§11.22: ``ttl`` above ``explicit_max_ttl`` → capped to it, with the warning."""
        reply = create_reply(vault, policies=["default"], ttl="2h", explicit_max_ttl="1h")

        assert reply["auth"]["lease_duration"] == 3600
        assert reply["warnings"] == [
            'TTL of "2h" exceeded the effective max_ttl of "1h"; TTL value is capped accordingly'
        ]

    def test_root_child_without_ttl_never_expires(self, vault: VaultPeer) -> None:
        """§11.23: root child, no policies/ttl → lease 0, not renewable, ``expire_time`` null."""
        response = vault.request("POST", "auth/token/create", json={})
        auth = response.json()["auth"]

        data = lookup(vault, auth["client_token"])

        assert (auth["lease_duration"], auth["renewable"]) == (0, False)
        assert auth["policies"] == ["root"]
        assert (data["ttl"], data["expire_time"]) == (0, None)

    def test_custom_id_is_used_verbatim_with_warning(self, vault: VaultPeer) -> None:
        """A root caller's ``id`` is the token, with the SHA1-hashing warning."""
        custom = unique("custom-id")

        reply = create_reply(vault, id=custom, policies=["default"])

        assert reply["auth"]["client_token"] == custom
        assert any("SHA1" in warning for warning in reply["warnings"])

    def test_meta_is_kept(self, vault: VaultPeer) -> None:
        """``meta`` shows as ``metadata`` on create and ``meta`` on lookup."""
        reply = create_reply(vault, policies=["default"], meta={"owner": "wizard"})

        assert reply["auth"]["metadata"] == {"owner": "wizard"}
        assert lookup(vault, reply["auth"]["client_token"])["meta"] == {"owner": "wizard"}
