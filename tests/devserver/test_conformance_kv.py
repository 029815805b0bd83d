"""Conformance: KV v2 at ``secret/`` (reference §8; §11 item 47)."""

from __future__ import annotations

import json

import hvac.exceptions
import pytest

from tests.devserver.helpers import errors, make_token, put_policy
from tests.vaultpeer import VaultPeer, unique


class TestKV:
    def test_write_then_read_round_trips(self, vault: VaultPeer) -> None:
        """Writing returns version metadata; reading returns data + metadata."""
        path = unique("app/creds")
        client = vault.client().secrets.kv.v2

        written = client.create_or_update_secret(path=path, secret={"user": "u", "pw": "p"})
        read = client.read_secret_version(path=path, raise_on_deleted_version=True)["data"]

        assert written["data"]["version"] == 1
        assert written["data"]["deletion_time"] == ""
        assert read["data"] == {"user": "u", "pw": "p"}
        assert read["metadata"]["version"] == 1
        assert read["metadata"]["destroyed"] is False

    def test_stale_cas_is_400(self, vault: VaultPeer) -> None:
        """§11.47: a ``cas`` that is not the current version → 400 with Vault's text."""
        path = unique("cas")
        client = vault.client().secrets.kv.v2
        client.create_or_update_secret(path=path, secret={"v": 1})
        client.create_or_update_secret(path=path, secret={"v": 2}, cas=1)

        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            client.create_or_update_secret(path=path, secret={"v": 3}, cas=1)

        assert errors(info.value) == ["check-and-set parameter did not match the current version"]

    def test_cas_zero_only_creates(self, vault: VaultPeer) -> None:
        """``cas: 0`` writes only when the key does not exist yet."""
        path = unique("cas0")
        client = vault.client().secrets.kv.v2

        client.create_or_update_secret(path=path, secret={"v": 1}, cas=0)
        with pytest.raises(hvac.exceptions.InvalidRequest):
            client.create_or_update_secret(path=path, secret={"v": 2}, cas=0)

    def test_cas_required_refuses_writes_without_cas(self, vault: VaultPeer) -> None:
        """With ``cas_required`` on the key, a write without ``cas`` is 400."""
        path = unique("casreq")
        client = vault.client().secrets.kv.v2
        client.update_metadata(path=path, cas_required=True)

        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            client.create_or_update_secret(path=path, secret={"v": 1})

        assert errors(info.value) == ["check-and-set parameter required for this call"]

    def test_missing_secret_is_404_with_empty_errors(self, vault: VaultPeer) -> None:
        """§11.47: reading a key that never existed → 404 ``{"errors":[]}``."""
        response = vault.request("GET", f"secret/data/{unique('missing')}")

        assert response.status_code == 404
        assert response.json() == {"errors": []}

    def test_deleted_version_is_404_with_metadata(self, vault: VaultPeer) -> None:
        """A soft-deleted latest version reads as 404 whose body still has its metadata."""
        path = unique("deleted")
        client = vault.client().secrets.kv.v2
        client.create_or_update_secret(path=path, secret={"v": 1})
        client.delete_latest_version_of_secret(path=path)

        response = vault.request("GET", f"secret/data/{path}")
        tolerant = client.read_secret_version(path=path, raise_on_deleted_version=False)

        assert response.status_code == 404
        assert response.json()["data"]["data"] is None
        assert response.json()["data"]["metadata"]["deletion_time"] != ""
        assert tolerant["data"]["metadata"]["version"] == 1

    def test_versions_undelete_and_destroy(self, vault: VaultPeer) -> None:
        """Older versions stay readable; undelete restores; destroy is final."""
        path = unique("versions")
        client = vault.client().secrets.kv.v2
        for value in (1, 2, 3):
            client.create_or_update_secret(path=path, secret={"v": value})

        client.delete_secret_versions(path=path, versions=[2])
        client.undelete_secret_versions(path=path, versions=[2])
        client.destroy_secret_versions(path=path, versions=[1])

        version_two = client.read_secret_version(
            path=path, version=2, raise_on_deleted_version=True
        )
        metadata = client.read_secret_metadata(path=path)["data"]
        assert version_two["data"]["data"] == {"v": 2}
        assert metadata["current_version"] == 3
        assert metadata["versions"]["1"]["destroyed"] is True
        assert vault.request("GET", f"secret/data/{path}", params={"version": 1}).status_code == 404

    def test_metadata_list_shows_folders_with_slash(self, vault: VaultPeer) -> None:
        """``LIST secret/metadata/<dir>`` lists keys, sub-folders ending in ``/``."""
        base = unique("tree")
        client = vault.client().secrets.kv.v2
        client.create_or_update_secret(path=f"{base}/leaf", secret={"a": 1})
        client.create_or_update_secret(path=f"{base}/sub/deeper", secret={"a": 1})

        keys = client.list_secrets(path=base)["data"]["keys"]

        assert keys == ["leaf", "sub/"]

    def test_delete_metadata_removes_everything(self, vault: VaultPeer) -> None:
        """Deleting metadata deletes every version: the key reads 404 after."""
        path = unique("wipe")
        client = vault.client().secrets.kv.v2
        client.create_or_update_secret(path=path, secret={"a": 1})

        client.delete_metadata_and_all_versions(path=path)

        assert vault.request("GET", f"secret/metadata/{path}").status_code == 404

    def test_http_patch_merges_into_a_new_version(self, vault: VaultPeer) -> None:
        """PATCH with the merge-patch content type adds a version; ``null`` drops a field."""
        path = unique("patch")
        client = vault.client().secrets.kv.v2
        client.create_or_update_secret(path=path, secret={"a": 1, "b": 2})

        response = vault.request(
            "PATCH",
            f"secret/data/{path}",
            data=json.dumps({"data": {"b": None, "c": 3}}),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        read = client.read_secret_version(path=path, raise_on_deleted_version=True)["data"]

        assert response.status_code == 200
        assert read["data"] == {"a": 1, "c": 3}
        assert read["metadata"]["version"] == 2

    def test_patch_without_merge_patch_content_type_is_415(self, vault: VaultPeer) -> None:
        """PATCH with plain JSON is refused with 415."""
        response = vault.request("PATCH", f"secret/data/{unique('p')}", json={"data": {}})

        assert response.status_code == 415

    def test_create_and_update_capabilities_are_distinct(self, vault: VaultPeer) -> None:
        """A new key needs ``create``; overwriting an existing one needs ``update``."""
        base = unique("cu")
        creator = put_policy(vault, f'path "secret/data/{base}/*" {{ capabilities = ["create"] }}')
        client = vault.client(make_token(vault, policies=[creator])).secrets.kv.v2

        client.create_or_update_secret(path=f"{base}/new", secret={"a": 1})
        with pytest.raises(hvac.exceptions.Forbidden):
            client.create_or_update_secret(path=f"{base}/new", secret={"a": 2})

    def test_max_versions_drops_the_oldest(self, vault: VaultPeer) -> None:
        """With ``max_versions: 2`` only the two newest versions are kept."""
        path = unique("maxv")
        client = vault.client().secrets.kv.v2
        client.update_metadata(path=path, max_versions=2)
        for value in (1, 2, 3):
            client.create_or_update_secret(path=path, secret={"v": value})

        metadata = client.read_secret_metadata(path=path)["data"]

        assert sorted(metadata["versions"]) == ["2", "3"]
        assert metadata["oldest_version"] == 2
