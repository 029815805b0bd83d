"""Differential conformance: the same requests on the dev server and on a real OpenBao.

Each scenario runs on both servers in one test and the answers must agree (see
``differential.py`` for what "agree" means); the only differences allowed are
those ``differences.py`` lists, each with its source. These tests use both
servers by name (``devserver_peer``, ``openbao_peer``), so they run in the dev
server pass of ``tests/check.sh`` and start their own OpenBao there.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.devserver.differences import ALLOWED_IN_TRANSCRIPTS
from tests.devserver.differential import Step, compare, new_run_id, run
from tests.vaultpeer import VaultPeer

ADMIN = (
    'path "auth/token/*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }'
)
CREATE_ONLY = 'path "auth/token/create" { capabilities = ["update"] }'
ORPHAN_ONLY = 'path "auth/token/create-orphan" { capabilities = ["update"] }'
KV_RW = 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list", "patch"] }'


def policy(name: str, rules: str) -> Step:
    return Step("PUT", f"sys/policies/acl/{name}-{{run}}", {"policy": rules})


def token(name: str, **body: object) -> Step:
    """Root creates a token and keeps it as *name*."""
    return Step("POST", "auth/token/create", dict(body), save={name: "auth.client_token"})


SCENARIOS: dict[str, list[Step]] = {
    "create-and-lookup": [
        token(
            "t",
            policies=["default", "missing-{run}"],
            ttl="1h",
            display_name="My App_1.",
            meta={"team": "devvm"},
        ),
        Step("GET", "auth/token/lookup-self", token="t", save={"accessor": "data.accessor"}),
        Step("POST", "auth/token/lookup-accessor", {"accessor": "{accessor}"}),
        Step("POST", "auth/token/lookup", {"token": "{t}"}),
    ],
    "periodic-orphan-by-sudo": [
        policy("admin", ADMIN),
        token("admin", policies=["admin-{run}"], display_name="oidc-wizard", no_parent=True),
        Step(
            "POST",
            "auth/token/create-orphan",
            {"policies": ["admin-{run}"], "period": "768h", "display_name": "devvm-{run}"},
            token="admin",
            save={"ours": "auth.client_token"},
        ),
        Step("GET", "auth/token/lookup-self", token="ours"),
        Step("POST", "auth/token/renew-self", {"increment": "5h"}, token="ours"),
    ],
    "non-sudo-refusals": [
        policy("creator", CREATE_ONLY),
        token("creator", policies=["creator-{run}"], ttl="1h"),
        Step("POST", "auth/token/create", {"period": "1h"}, token="creator"),
        Step("POST", "auth/token/create", {"no_parent": True}, token="creator"),
        Step("POST", "auth/token/create", {"id": "custom-{run}"}, token="creator"),
        Step("POST", "auth/token/create", {"policies": ["root"]}, token="creator"),
        Step("POST", "auth/token/create", {"policies": ["other-{run}"]}, token="creator"),
        Step("POST", "auth/token/create", {"ttl": "10m"}, token="creator"),
        Step("POST", "auth/token/create-orphan", {}, token="creator"),
    ],
    "create-orphan-needs-only-update": [
        policy("orphaner", ORPHAN_ONLY),
        token("orphaner", policies=["orphaner-{run}"], ttl="1h"),
        Step(
            "POST",
            "auth/token/create-orphan",
            {"policies": ["default"], "ttl": "30m"},
            token="orphaner",
            save={"o": "auth.client_token"},
        ),
        Step("GET", "auth/token/lookup-self", token="o"),
    ],
    "renewals": [
        token("t", policies=["default"], ttl="10m", explicit_max_ttl="1h"),
        Step("POST", "auth/token/renew-self", {"increment": "30m"}, token="t"),
        Step("POST", "auth/token/renew-self", {}, token="t"),
        Step("POST", "auth/token/renew-self", {"increment": "2h"}, token="t"),
        token("p", policies=["default"], period="2h", explicit_max_ttl="1h"),
        token("fixed", policies=["default"], renewable=False),
        Step("POST", "auth/token/renew-self", {}, token="fixed"),
        Step("POST", "auth/token/renew", {"token": "s.doesNotExist000000000000"}),
    ],
    "revocation-trees": [
        token("parent", policies=["default"], ttl="1h"),
        Step(
            "POST",
            "auth/token/create",
            {"policies": ["default"]},
            token="parent",
            save={"child": "auth.client_token", "child_accessor": "auth.accessor"},
        ),
        Step("POST", "auth/token/revoke-self", token="parent"),
        Step("GET", "auth/token/lookup-self", token="child"),
        Step("POST", "auth/token/lookup-accessor", {"accessor": "{child_accessor}"}),
        Step("POST", "auth/token/revoke-accessor", {"accessor": "{child_accessor}"}),
        Step("POST", "auth/token/revoke-accessor", {"accessor": ""}),
        Step("POST", "auth/token/lookup-accessor", {}),
        Step("POST", "auth/token/revoke", {"token": "s.doesNotExist000000000000"}),
    ],
    "revoke-orphan-keeps-children": [
        token("parent", policies=["default"], ttl="1h"),
        Step(
            "POST",
            "auth/token/create",
            {"policies": ["default"]},
            token="parent",
            save={"child": "auth.client_token"},
        ),
        Step("POST", "auth/token/revoke-orphan", {"token": "{parent}"}),
        Step("GET", "auth/token/lookup-self", token="child"),
    ],
    "who-may-do-what": [
        policy("weak", 'path "secret/data/ci/*" { capabilities = ["read"] }'),
        token("weak", policies=["weak-{run}"], ttl="1h"),
        Step("GET", "secret/data/other", token="weak"),
        Step("LIST", "auth/token/accessors", token="weak"),
        Step("POST", "auth/token/create-orphan", {}, token="weak"),
        Step("POST", "pki/issue/any", {"common_name": "a"}, token="weak"),
        Step("GET", "auth/token/lookup-self", token=""),
        Step("POST", "sys/capabilities-self", {"paths": ["secret/data/ci/x"]}, token="weak"),
        Step("POST", "sys/capabilities-self", {"paths": ["a", "b"]}, token="weak"),
    ],
    "dead-token-everywhere": [
        policy("kv", KV_RW),
        token("t", policies=["kv-{run}"], ttl="1h"),
        Step("POST", "auth/token/revoke-self", token="t"),
        Step("GET", "secret/data/x", token="t"),
        Step("POST", "auth/token/renew-self", token="t"),
        Step("POST", "auth/token/create-orphan", {}, token="t"),
        Step("GET", "auth/token/lookup-self", token="s.neverIssued00000000000000"),
    ],
    "use-limited-tokens": [
        token("once", policies=["default"], num_uses=2),
        Step("GET", "auth/token/lookup-self", token="once"),
        Step("GET", "auth/token/lookup-self", token="once"),
        Step("GET", "auth/token/lookup-self", token="once"),
    ],
    "batch-tokens": [
        token("b", policies=["default"], type="batch", ttl="1h"),
        Step("GET", "auth/token/lookup-self", token="b"),
        Step("POST", "auth/token/renew-self", token="b"),
        Step("POST", "auth/token/create", {"policies": ["default"]}, token="b"),
        Step("POST", "auth/token/create", {"type": "batch", "period": "1h"}),
    ],
    "policies": [
        policy("p", 'path "secret/data/x" {\n  capabilities = ["read"]\n}\n'),
        Step("GET", "sys/policies/acl/p-{run}"),
        Step("GET", "sys/policy/p-{run}"),
        Step("PUT", "sys/policies/acl/bad-{run}", {"policy": 'path "x" { capa'}),
        Step("DELETE", "sys/policies/acl/default"),
        Step("PUT", "sys/policies/acl/root", {"policy": 'path "x" { capabilities = ["read"] }'}),
        Step("DELETE", "sys/policies/acl/p-{run}"),
        Step("GET", "sys/policies/acl/p-{run}"),
    ],
    "kv-v2": [
        Step("POST", "secret/data/diff-{run}/a", {"data": {"k": "v1"}}),
        Step("POST", "secret/data/diff-{run}/a", {"data": {"k": "v2"}, "options": {"cas": 1}}),
        Step("POST", "secret/data/diff-{run}/a", {"data": {"k": "v3"}, "options": {"cas": 1}}),
        Step("GET", "secret/data/diff-{run}/a"),
        Step("GET", "secret/data/diff-{run}/a?version=1"),
        Step("GET", "secret/metadata/diff-{run}/a"),
        Step("LIST", "secret/metadata/diff-{run}"),
        Step("DELETE", "secret/data/diff-{run}/a"),
        Step("GET", "secret/data/diff-{run}/a"),
        Step("POST", "secret/undelete/diff-{run}/a", {"versions": [2]}),
        Step("GET", "secret/data/diff-{run}/missing"),
    ],
    "approle": [
        Step(
            "POST", "auth/approle/role/r-{run}", {"token_policies": ["default"], "token_ttl": 600}
        ),
        Step("GET", "auth/approle/role/r-{run}/role-id", save={"role_id": "data.role_id"}),
        Step(
            "POST",
            "auth/approle/role/r-{run}/secret-id",
            {"metadata": '{"rotation": "x"}'},
            save={"sid": "data.secret_id", "sid_accessor": "data.secret_id_accessor"},
        ),
        Step(
            "POST",
            "auth/approle/login",
            {"role_id": "{role_id}", "secret_id": "{sid}"},
            token="",
            save={"login": "auth.client_token"},
        ),
        Step("GET", "auth/token/lookup-self", token="login"),
        Step(
            "POST",
            "auth/approle/role/r-{run}/secret-id-accessor/lookup",
            {"secret_id_accessor": "{sid_accessor}"},
        ),
        Step(
            "POST",
            "auth/approle/role/r-{run}/secret-id-accessor/destroy",
            {"secret_id_accessor": "{sid_accessor}"},
        ),
        Step(
            "POST", "auth/approle/login", {"role_id": "{role_id}", "secret_id": "{sid}"}, token=""
        ),
        Step("LIST", "auth/approle/role/r-{run}/secret-id"),
    ],
    "pki": [
        Step(
            "POST",
            "pki/roles/r-{run}",
            {"allowed_domains": ["example.test"], "allow_subdomains": True, "max_ttl": "72h"},
        ),
        Step("POST", "pki/issue/r-{run}", {"common_name": "a.example.test", "ttl": "1h"}),
        Step("POST", "pki/issue/r-{run}", {"common_name": "evil.example"}),
        Step("POST", "pki/issue/r-{run}", {"common_name": "b.example.test", "ttl": "100h"}),
        Step("POST", "pki/issue/nope-{run}", {"common_name": "a.example.test"}),
    ],
    "sys-endpoints": [
        Step("GET", "sys/health", token=""),
        Step("GET", "sys/seal-status", token=""),
        Step("GET", "sys/auth"),
    ],
    "transport": [
        Step("GET", "nosuchmount/thing"),
        Step("GET", "auth/token/no-such-endpoint"),
        Step("GET", "auth/token/create"),
        Step("GET", "auth/token/accessors?list=maybe"),
    ],
}


def play(both: tuple[VaultPeer, VaultPeer], steps: Sequence[Step]) -> list[str]:
    dev, real = both
    run_id = new_run_id()
    return compare(
        run(dev, steps, run_id=run_id),
        run(real, steps, run_id=run_id),
        allowed=[pattern for pattern, _why in ALLOWED_IN_TRANSCRIPTS],
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_dev_server_answers_as_openbao_does(
    both: tuple[VaultPeer, VaultPeer], name: str
) -> None:
    """Same requests, same answers, but for the cited differences."""
    assert play(both, SCENARIOS[name]) == []
