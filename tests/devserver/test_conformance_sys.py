"""Conformance: sys/ endpoints, policies and server modes (§2.6, §2.7, §3, §7; items 41-45)."""

from __future__ import annotations

import json

import hvac
import hvac.exceptions
import pytest

from renewer.devserver import DevServer
from tests.devserver.differences import (
    HEALTH_KEYS_COMMON,
    HEALTH_KEYS_OPENBAO_ONLY,
    HEALTH_KEYS_VAULT_ONLY,
    POLICY_READ_EXTRA_KEYS,
    RATE_LIMIT_HEADERS_ON_BLOCK,
)
from tests.devserver.helpers import make_token, put_policy
from tests.vaultpeer import VaultPeer, unique


class TestCapabilities:
    def test_capabilities_self_at_top_level_and_in_data(self, vault: VaultPeer) -> None:
        """§11.41: path and ``capabilities`` keys appear both at top level and in ``data``."""
        name = put_policy(vault, 'path "secret/data/caps/*" { capabilities = ["read", "list"] }')
        token = make_token(vault, policies=[name])

        body = vault.request(
            "POST", "sys/capabilities-self", token=token, json={"paths": ["secret/data/caps/x"]}
        ).json()

        for where in (body, body["data"]):
            assert where["secret/data/caps/x"] == ["list", "read"]
            assert where["capabilities"] == ["list", "read"]

    def test_capabilities_self_root_and_deny(self, vault: VaultPeer) -> None:
        """§11.41: root → ``["root"]``; no matching rule → ``["deny"]``."""
        token = make_token(vault, policies=["default"])

        root = vault.client().sys.get_capabilities(paths=["anything/at/all"])
        none = vault.client(token).sys.get_capabilities(paths=["secret/data/nothing"])

        assert root["capabilities"] == ["root"]
        assert none["capabilities"] == ["deny"]

    def test_capabilities_of_several_paths_have_no_capabilities_key(self, vault: VaultPeer) -> None:
        """With two paths there is one key per path and no ``capabilities`` key."""
        token = make_token(vault, policies=["default"])

        body = vault.client(token).sys.get_capabilities(
            paths=["auth/token/renew-self", "auth/token/lookup-self"]
        )

        assert body["data"]["auth/token/renew-self"] == ["update"]
        assert body["data"]["auth/token/lookup-self"] == ["read"]
        assert "capabilities" not in body["data"]


class TestHealth:
    def test_health_get_has_ce_keys(self, vault: VaultPeer) -> None:
        """§11.42: GET sys/health → 200 with the CE keys (OpenBao's own set), unauthenticated."""
        response = vault.request("GET", "sys/health", token="")
        keys = set(response.json())

        assert response.status_code == 200
        assert keys >= HEALTH_KEYS_COMMON
        if vault.kind == "openbao":
            assert keys - HEALTH_KEYS_COMMON <= HEALTH_KEYS_OPENBAO_ONLY
        else:
            assert keys >= HEALTH_KEYS_VAULT_ONLY
        assert response.json()["sealed"] is False

    def test_health_head_is_status_only(self, vault: VaultPeer) -> None:
        """§11.42: HEAD → the status, no body."""
        response = vault.request("HEAD", "sys/health", token="")

        assert response.status_code == 200
        assert response.content == b""

    def test_sealed_health_is_503_with_json(self, vault: VaultPeer) -> None:
        """§11.42: sealed → 503 and the same JSON (not an errors body)."""
        controls = vault.require_dev()
        controls.seal()

        response = vault.request("GET", "sys/health", token="")

        assert response.status_code == 503
        assert response.json()["sealed"] is True
        assert "errors" not in response.json()

    def test_sealed_server_answers_503_vault_is_sealed(self, vault: VaultPeer) -> None:
        """§11.43: sealed → every other endpoint 503 ``Vault is sealed`` (hvac VaultDown)."""
        controls = vault.require_dev()
        controls.seal()

        with pytest.raises(hvac.exceptions.VaultDown) as info:
            vault.client().auth.token.lookup_self()
        controls.unseal()

        assert info.value.errors == ["Vault is sealed"]
        assert vault.client().auth.token.lookup_self()["data"]["id"] == vault.root_token

    def test_standby_redirects_to_the_active_node(self, vault: VaultPeer) -> None:
        """§11.44: a standby answers 307 to the active node (hvac follows); health 429."""
        with DevServer(root_token=unique("standby-root")) as standby:
            standby.standby(vault.addr)
            raw = vault.client()._adapter.session.get(
                f"{standby.addr}/v1/auth/token/lookup-self",
                headers={"X-Vault-Token": vault.root_token},
                allow_redirects=False,
                timeout=5,
            )
            followed = hvac.Client(url=standby.addr, token=vault.root_token, timeout=5)
            data = followed.auth.token.lookup_self()["data"]
            health = followed.sys.read_health_status(method="GET")

        assert raw.status_code == 307
        assert raw.headers["Location"] == f"{vault.addr}/v1/auth/token/lookup-self"
        assert data["id"] == vault.root_token
        assert health.status_code == 429

    def test_rate_limit_mode_answers_429_with_headers(self, vault: VaultPeer) -> None:
        """§11.45: 429 ``request path "<p>": rate limit quota exceeded`` + Retry-After.

        On OpenBao a real quota (``sys/quotas/rate-limit``, spent by the proxy) answers."""
        controls = vault.require_dev()
        controls.ratelimit(retry_after=7)

        response = vault.request("GET", "auth/token/lookup-self")
        with pytest.raises(hvac.exceptions.RateLimitExceeded):
            vault.client().auth.token.lookup_self()
        health = vault.request("GET", "sys/health", token="")

        assert response.status_code == 429
        assert response.json() == {
            "errors": ['request path "auth/token/lookup-self": rate limit quota exceeded']
        }
        assert health.status_code == 200
        if vault.is_dev:
            assert response.headers["Retry-After"] == "7"
            assert response.headers["X-Ratelimit-Remaining"] == "0"
        else:  # a blocked quota counts its block down and sends no X-Ratelimit-*
            assert 0 < int(response.headers["Retry-After"]) <= 60
            limits = {n for n in response.headers if n.lower().startswith(("retry-", "x-ratel"))}
            assert limits == RATE_LIMIT_HEADERS_ON_BLOCK

    def test_rate_limit_without_headers_sends_none(self, vault: VaultPeer) -> None:
        """Without ``enable_rate_limit_response_headers`` Vault sends no Retry-After."""
        controls = vault.require_dev()
        controls.ratelimit(headers=False)

        response = vault.request("GET", "auth/token/lookup-self")

        assert response.status_code == 429
        assert "Retry-After" not in response.headers


class TestPolicyEndpoints:
    def test_acl_policy_write_read_list_delete(self, vault: VaultPeer) -> None:
        """``sys/policies/acl/:name``: PUT 204, GET ``{name, policy}``, LIST, DELETE 204."""
        rules = 'path "secret/data/x" {\n  capabilities = ["read"]\n}\n'
        name = unique("acl")
        client = vault.client()

        client.sys.create_or_update_acl_policy(name=name, policy=rules)
        read = client.sys.read_acl_policy(name)["data"]
        listed = client.sys.list_acl_policies()["data"]["keys"]
        client.sys.delete_acl_policy(name)

        assert {key: read[key] for key in ("name", "policy")} == {"name": name, "policy": rules}
        assert set(read) - {"name", "policy"} <= POLICY_READ_EXTRA_KEYS
        assert {"default", "root", name} <= set(listed)
        assert vault.request("GET", f"sys/policies/acl/{name}").status_code == 404

    def test_legacy_policy_api_answers_rules_at_top_level(self, vault: VaultPeer) -> None:
        """``sys/policy/:name`` answers ``rules``, copied to the top level."""
        rules = 'path "secret/*" { capabilities = ["list"] }'
        name = unique("legacy")
        vault.client().sys.create_or_update_policy(name=name, policy=rules)

        body = vault.request("GET", f"sys/policy/{name}").json()
        listing = vault.request("GET", "sys/policy").json()

        assert body["rules"] == rules
        assert {key: body["data"][key] for key in ("name", "rules")} == {
            "name": name,
            "rules": rules,
        }
        assert set(body["data"]) - {"name", "rules"} <= POLICY_READ_EXTRA_KEYS
        assert name in listing["policies"]
        assert listing["data"]["keys"] == listing["data"]["policies"]

    def test_json_policy_body_is_accepted_and_enforced(self, vault: VaultPeer) -> None:
        """A JSON policy document works like its HCL twin."""
        policy = {"path": {"secret/data/json-*": {"capabilities": ["read"]}}}
        name = unique("json")
        vault.client().sys.create_or_update_acl_policy(name=name, policy=policy)
        token = make_token(vault, policies=[name])

        caps = vault.client(token).sys.get_capabilities(paths=["secret/data/json-a"])

        assert caps["capabilities"] == ["read"]

    def test_default_policy_is_shipped_and_undeletable(self, vault: VaultPeer) -> None:
        """``default`` reads back Vault's text; deleting it or ``root`` is 400."""
        text = vault.client().sys.read_acl_policy("default")["data"]["policy"]

        default_delete = vault.request("DELETE", "sys/policies/acl/default")
        root_write = vault.request("PUT", "sys/policies/acl/root", json={"policy": text})

        assert 'path "auth/token/renew-self"' in text
        assert default_delete.status_code == 400
        assert default_delete.json() == {"errors": ["cannot delete default policy"]}
        assert root_write.status_code == 400

    def test_invalid_policy_text_is_400(self, vault: VaultPeer) -> None:
        """Unparseable HCL → 400 starting ``failed to parse policy``."""
        response = vault.request(
            "PUT", f"sys/policies/acl/{unique('bad')}", json={"policy": 'path "x" { capa'}
        )

        assert response.status_code == 400
        assert response.json()["errors"][0].startswith("failed to parse policy")

    def test_policy_names_are_lower_cased(self, vault: VaultPeer) -> None:
        """Names are normalised: ``MiXeD`` is stored and read as ``mixed``."""
        name = unique("MiXeD")
        vault.client().sys.create_or_update_acl_policy(name=name, policy='path "a" {policy="read"}')

        read = vault.client().sys.read_acl_policy(name.lower())["data"]

        assert read["name"] == name.lower()


class TestACLThroughTheServer:
    def test_most_specific_rule_wins_and_deny_beats_all(self, vault: VaultPeer) -> None:
        """Exact over glob, longer glob over shorter, ``+`` segments, and ``deny``."""
        base = unique("acl")
        rules = "\n".join(
            [
                f'path "secret/data/{base}/*" {{ capabilities = ["read", "list"] }}',
                f'path "secret/data/{base}/team/*" {{ capabilities = ["create", "update"] }}',
                f'path "secret/data/{base}/team/locked" {{ capabilities = ["deny"] }}',
                f'path "secret/data/{base}/+/shared" {{ capabilities = ["read", "sudo"] }}',
            ]
        )
        token = make_token(vault, policies=[put_policy(vault, rules)])
        paths = {
            f"secret/data/{base}/x": ["list", "read"],
            f"secret/data/{base}/team/x": ["create", "update"],
            f"secret/data/{base}/team/locked": ["deny"],
            f"secret/data/{base}/other/shared": ["read", "sudo"],
        }

        caps = vault.client(token).sys.get_capabilities(paths=list(paths))["data"]

        assert {path: caps[path] for path in paths} == paths

    def test_rules_for_the_same_path_merge_across_policies(self, vault: VaultPeer) -> None:
        """Two policies on one path: capabilities union (deny would absorb them)."""
        base = unique("merge")
        first = put_policy(vault, f'path "secret/data/{base}" {{ capabilities = ["read"] }}')
        second = put_policy(vault, f'path "secret/data/{base}" {{ capabilities = ["update"] }}')
        token = make_token(vault, policies=[first, second])

        caps = vault.client(token).sys.get_capabilities(paths=[f"secret/data/{base}"])

        assert caps["capabilities"] == ["read", "update"]

    def test_policy_changes_apply_to_existing_tokens(self, vault: VaultPeer) -> None:
        """Updating a policy changes what tokens holding it may do, at once."""
        name = unique("live")
        vault.client().sys.create_or_update_acl_policy(
            name=name, policy='path "secret/data/live" { capabilities = ["read"] }'
        )
        token = make_token(vault, policies=[name])
        vault.client().sys.create_or_update_acl_policy(
            name=name, policy='path "secret/data/live" { capabilities = ["deny"] }'
        )

        caps = vault.client(token).sys.get_capabilities(paths=["secret/data/live"])

        assert caps["capabilities"] == ["deny"]

    def test_policy_body_can_be_sent_as_json_string(self, vault: VaultPeer) -> None:
        """The ``policy`` field may hold JSON text (hvac sends dicts that way)."""
        text = json.dumps({"path": {"sys/health": {"capabilities": ["read"]}}})
        response = vault.request("PUT", f"sys/policies/acl/{unique('j')}", json={"policy": text})

        assert response.status_code == 204


class TestMounts:
    def test_auth_methods_include_token(self, vault: VaultPeer) -> None:
        """``GET sys/auth`` lists ``token/`` (and data is also at the top level)."""
        body = vault.request("GET", "sys/auth").json()

        assert body["data"]["token/"]["type"] == "token"
        assert body["token/"]["type"] == "token"

    def test_secret_mount_is_kv_version_2(self, vault: VaultPeer) -> None:
        """``GET sys/mounts``: ``secret/`` is KV with ``options.version`` 2, as in -dev."""
        mounts = vault.client().sys.list_mounted_secrets_engines()["data"]

        assert mounts["secret/"]["type"] == "kv"
        assert mounts["secret/"]["options"]["version"] == "2"

    def test_enabling_auth_needs_sudo(self, vault: VaultPeer) -> None:
        """``sys/auth/*`` is root-protected: ``update`` without ``sudo`` → 403."""
        name = put_policy(vault, 'path "sys/auth/*" { capabilities = ["update"] }')
        token = make_token(vault, policies=[name])

        response = vault.request(
            "POST", f"sys/auth/{unique('x')}", token=token, json={"type": "approle"}
        )

        assert response.status_code == 403
