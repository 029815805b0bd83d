"""`renewer run` steps 2 and 4 together: the renewed token reaches a KV v2 secret store.

Real peers only: the dev server (or a real Vault) holds the secret in KV v2,
read with the token renewer just renewed; a local API checks the injected key.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from renewer.config import load_config
from renewer.secretstore.base import Namespace, SecretRef, merge_with, replace_with
from renewer.secretstore.vault_kv import VaultKVStore
from renewer.vault import KVv2, kv_backend
from tests.integration.conftest import World
from tests.peers.api_server import ApiPeer
from tests.vaultpeer import unique
from tests.workspace import static_recipe

CREDENTIALS = """\
secrets:
  default_store: vault
  vault: {{mount: secret, prefix: {prefix}, token: devvm}}
recipes:
  dirs: [{recipes}]
credentials:
  - name: api
    recipe: peerapi
    secret: peerapi/main
    sinks:
      - {{type: file, path: {sink}}}
"""


@pytest.fixture
def credential_world(world: World, api_peer: ApiPeer) -> World:
    recipes = world.home / "recipes"
    recipes.mkdir()
    (recipes / "peerapi.yaml").write_text(
        static_recipe(
            "peerapi",
            api_peer.base_url,
            inject='header:\n  Authorization: "Bearer {{secret.api_key}}"\n',
        )
    )
    world.extra = CREDENTIALS.format(
        prefix=unique("renewer"), recipes=recipes, sink=world.home / "out" / "api-key"
    )
    world.write(world.mint_ours())
    return world


class TestVaultStoredCredential:
    def test_creds_set_then_run_renews_the_token_and_writes_the_sink(
        self,
        credential_world: World,
        api_peer: ApiPeer,
        make_secret: Callable[[str], str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Secret → KV v2 via stdin; the run tests it against the API and writes the sink."""
        world = credential_world
        key = make_secret("api-key")
        api_peer.keys.add(key)
        monkeypatch.setattr("sys.stdin", io.StringIO(key))
        assert world.cli("creds", "set", "api", "--stdin").code == 0

        result = world.cli("run")

        assert result.code == 0, result.err
        assert result.event("token.renewed")
        assert (world.home / "out" / "api-key").read_text() == key
        assert world.cli("run").code == 0  # unchanged second time

    def test_a_dead_token_makes_the_vault_store_unusable_but_the_run_isolates_it(
        self, credential_world: World
    ) -> None:
        """Token revoked: the token item needs a human; the credential reports its own failure."""
        world = credential_world
        world.vault.request("POST", "auth/token/revoke", json={"token": world.read()})
        result = world.cli("run")
        assert result.code == 1
        assert result.event("token.invalid")
        assert any(e.get("kind") == "credential" for e in result.events())


class TestKVv2AgainstVault:
    def store(self, world: World) -> tuple[VaultKVStore, KVv2]:
        config = load_config(world.write_config(), environ={"HOME": str(world.home)})
        backend = kv_backend(config, mount="secret", token_sink="devvm")
        return VaultKVStore(backend, mount="secret", prefix=unique("kvtest")), backend

    def test_a_racing_writer_loses_nothing(
        self, credential_world: World, make_secret: Callable[[str], str]
    ) -> None:
        """Another writer lands between our read and our cas write: both changes survive."""
        store, backend = self.store(credential_world)
        ref = SecretRef("slack", "team-a")
        rotated = make_secret("rt")
        store.update(ref, Namespace.RUNTIME, replace_with({"refresh_token": "old"}))
        path = store.path(ref, Namespace.RUNTIME)
        original_read = backend.read
        raced: list[bool] = []

        def read_then_race(target: str) -> tuple[dict[str, str], int] | None:
            found = original_read(target)
            if not raced and found is not None:
                raced.append(True)
                backend.write(target, {**found[0], "refresh_token": rotated}, cas=found[1])
            return found

        backend.read = read_then_race  # type: ignore[method-assign,assignment]
        store.update(ref, Namespace.RUNTIME, merge_with({"access_token": "at"}))
        backend.read = original_read  # type: ignore[method-assign]
        assert store.read(ref, Namespace.RUNTIME) == {
            "refresh_token": rotated,
            "access_token": "at",
        }
        assert path.endswith("runtime/slack/team-a")

    def test_a_soft_deleted_latest_version_can_be_written_over(
        self, credential_world: World
    ) -> None:
        """Vault keeps the version number of a deleted secret: cas must follow it."""
        store, backend = self.store(credential_world)
        ref = SecretRef("svc", "one")
        store.update(ref, Namespace.SECRET, replace_with({"k": "v1"}))
        path = store.path(ref, Namespace.SECRET)
        response = credential_world.vault.request("DELETE", f"secret/data/{path}")
        assert response.status_code == 204
        assert backend.read(path) == ({}, 1)
        store.update(ref, Namespace.SECRET, replace_with({"k": "v2"}))
        assert store.read(ref, Namespace.SECRET) == {"k": "v2"}


class TestCheckWithCredentials:
    def test_check_reports_a_missing_secret_then_passes_once_it_is_set(
        self,
        credential_world: World,
        api_peer: ApiPeer,
        make_secret: Callable[[str], str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """One line per credential: no secret yet (exit 1, the command to fix it), then ok."""
        world = credential_world
        before = world.cli("check")
        assert before.code == 1
        assert "fail  credential api (peerapi, vault store)" in before.out
        assert "renewer creds set api" in before.out
        key = make_secret("api-key")
        api_peer.keys.add(key)
        monkeypatch.setattr("sys.stdin", io.StringIO(key))
        assert world.cli("creds", "set", "api", "--stdin").code == 0
        after = world.cli("check")
        assert after.code == 0, after.out
        assert "ok    credential api" in after.out
