"""HTTP handlers of ``sys/``: health, seal status, policies, capabilities.

Shapes follow ``vault/logical_system.go`` and ``http/sys_health.go``. The old
``sys/policy`` API answers ``rules`` and copies its data to the top level of
the reply (``injectDataIntoTopRoutes``); ``sys/policies/acl`` answers
``policy`` and does not.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from renewer.devserver.fields import get_duration, get_str, get_str_list
from renewer.devserver.protocol import (
    NO_CONTENT,
    Call,
    Operation,
    Reply,
    bad_request,
    handler_error,
    not_found,
)
from renewer.devserver.routing import Mount, Route
from renewer.devserver.state import VERSION
from renewer.devserver.ttl import DEFAULT_LEASE_TTL, MAX_LEASE_TTL

if TYPE_CHECKING:
    from renewer.devserver.state import State
    from renewer.devserver.tokens import TokenEntry

CLUSTER_NAME = "vault-cluster-renewer-dev"
CLUSTER_ID = "6f5d9c7e-0000-4000-8000-72656e657765"
_CODE_PARAMS = {
    "activecode": 200,
    "standbycode": 429,
    "drsecondarycode": 472,
    "performancestandbycode": 473,
    "sealedcode": 503,
    "uninitcode": 501,
}


def _health_codes(query: Mapping[str, str]) -> dict[str, int]:
    codes = dict(_CODE_PARAMS)
    for name in codes:
        if name in query:
            try:
                codes[name] = int(query[name])
            except ValueError:
                raise bad_request(f"unable to parse {name} code: {query[name]!r}") from None
    if query.get("standbyok", "").lower() in ("true", "1", "t"):
        codes["standbycode"] = codes["activecode"]
    return codes


def handle_health(state: State, call: Call) -> Reply:
    """``GET|HEAD sys/health``: the JSON comes with the non-200 statuses too."""
    codes = _health_codes(call.query)
    sealed = state.modes.sealed
    standby = state.modes.standby_redirect is not None and not sealed
    status = codes["sealedcode"] if sealed else codes["activecode"]
    if standby:
        status = codes["standbycode"]
    body: dict[str, Any] = {
        "initialized": True,
        "sealed": sealed,
        "standby": standby,
        "performance_standby": False,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "disabled",
        "server_time_utc": math.floor(call.now),
        "version": VERSION,
        "enterprise": False,
    }
    if not sealed:
        body |= {"cluster_name": CLUSTER_NAME, "cluster_id": CLUSTER_ID}
    body |= {"echo_duration_ms": 0, "clock_skew_ms": 0, "replication_primary_canary_age_ms": 0}
    return Reply(raw=body, status=status)


def handle_seal_status(state: State, call: Call) -> Reply:
    """``GET sys/seal-status`` (hvac's ``is_sealed``)."""
    sealed = state.modes.sealed
    body: dict[str, Any] = {
        "type": "shamir",
        "initialized": True,
        "sealed": sealed,
        "t": 1,
        "n": 1,
        "progress": 0,
        "nonce": "",
        "version": VERSION,
        "build_date": "",
        "migration": False,
        "recovery_seal": False,
        "storage_type": "inmem",
    }
    if not sealed:
        body |= {"cluster_name": CLUSTER_NAME, "cluster_id": CLUSTER_ID}
    return Reply(raw=body)


def handle_init(state: State, call: Call) -> Reply:
    """``GET sys/init``: a dev server is always initialised."""
    return Reply(raw={"initialized": True})


def _policy_text(call: Call, *, legacy: bool) -> str:
    text = get_str(call.data, "policy")
    if not text and legacy:
        text = get_str(call.data, "rules")
    return text


def handle_policy_list(state: State, call: Call) -> Reply:
    """``GET sys/policy`` or ``LIST sys/policies/acl``."""
    names = state.policies.names()
    if call.path.startswith("sys/policy"):
        return Reply(data={"keys": names, "policies": names}, inject=True)
    return Reply(data={"keys": names})


def handle_policy_read(state: State, call: Call) -> Reply:
    """``GET sys/policy/:name`` (``rules``) or ``sys/policies/acl/:name`` (``policy``)."""
    policy = state.policies.get(call.params["name"])
    if policy is None:
        raise not_found()
    legacy = call.path.startswith("sys/policy/")
    key = "rules" if legacy else "policy"
    return Reply(data={"name": policy.name, key: policy.raw}, inject=legacy)


def handle_policy_write(state: State, call: Call) -> Reply:
    """``PUT|POST`` either policy API: 204, or 400 with the parse error."""
    legacy = call.path.startswith("sys/policy/")
    state.policies.put(call.params["name"], _policy_text(call, legacy=legacy))
    return NO_CONTENT


def handle_policy_delete(state: State, call: Call) -> Reply:
    """``DELETE`` either policy API: 204; ``default`` and ``root`` are refused."""
    state.policies.delete(call.params["name"])
    return NO_CONTENT


def _capabilities(state: State, call: Call, token: TokenEntry) -> Reply:
    paths = get_str_list(call.data, "paths") or get_str_list(call.data, "path") or []
    if not paths:
        raise bad_request("paths must be supplied")
    acl = state.policies.acl(token.policies)
    data: dict[str, Any] = {path: acl.capability_names(path) for path in paths}
    if len(paths) == 1:
        data["capabilities"] = data[paths[0]]
    return Reply(data=data, inject=True)


def handle_capabilities_self(state: State, call: Call) -> Reply:
    """``POST sys/capabilities-self``: the caller's capabilities per path."""
    assert call.token is not None
    return _capabilities(state, call, call.token)


def handle_capabilities(state: State, call: Call) -> Reply:
    """``POST sys/capabilities``: another token's capabilities."""
    token = state.tokens.get(get_str(call.data, "token"), call.now)
    if token is None:
        raise handler_error("invalid token")
    return _capabilities(state, call, token)


def handle_capabilities_accessor(state: State, call: Call) -> Reply:
    """``POST sys/capabilities-accessor``."""
    accessor = get_str(call.data, "accessor")
    if not accessor:
        raise bad_request("missing accessor")
    token = state.tokens.get_by_accessor(accessor, call.now)
    if token is None:
        raise handler_error("invalid accessor")
    return _capabilities(state, call, token)


_PLUGINS = frozenset({"approle", "kv", "pki"})  # builtin plugins: deprecation_status, options {}
_AUTH_KINDS = frozenset({"approle", "token"})  # their config names the token type
_SYSTEM_HEADERS = {"system": ["Accept"]}


def _mount_entry(kind: str, description: str, accessor: str) -> dict[str, Any]:
    """A ``sys/mounts`` / ``sys/auth`` entry, key for key as OpenBao 2.7 lists it."""
    config: dict[str, Any] = {"default_lease_ttl": 0, "force_no_cache": False, "max_lease_ttl": 0}
    if kind in _AUTH_KINDS:
        config["token_type"] = "default-service"
    if kind in _SYSTEM_HEADERS:
        config["passthrough_request_headers"] = _SYSTEM_HEADERS[kind]
    entry: dict[str, Any] = {
        "accessor": accessor,
        "config": config,
        "description": description,
        "external_entropy_access": False,
        "local": False,
        "options": {"version": "2"} if kind == "kv" else {} if kind in _PLUGINS else None,
        "plugin_version": "",
        "running_plugin_version": f"v{VERSION}+builtin",
        "running_sha256": "",
        "seal_wrap": kind == "system",
        "type": kind,
        "uuid": f"00000000-0000-4000-8000-{zlib.crc32(kind.encode()):012d}",
    }
    if kind in _PLUGINS:
        entry["deprecation_status"] = "supported"
    return entry


AUTH_MOUNTS = {
    "approle/": _mount_entry("approle", "", "auth_approle_2f9a5c1e"),
    "token/": _mount_entry("token", "token based credentials", "auth_token_5b3d7a90"),
}
SECRET_MOUNTS = {
    "pki/": _mount_entry("pki", "", "pki_3d81b6f0"),
    "secret/": _mount_entry("kv", "key/value secret storage", "kv_1c4e8b2d"),
    "sys/": _mount_entry(
        "system", "system endpoints used for control, policy and debugging", "system_7e2a9f41"
    ),
}


def handle_auth_list(state: State, call: Call) -> Reply:
    """``GET sys/auth``: the two auth methods this server has, always mounted."""
    return Reply(data=AUTH_MOUNTS, inject=True)


def handle_token_tune_read(state: State, call: Call) -> Reply:
    """``GET sys/auth/token/tune``: the token mount's lease TTLs (0 tuned = the system's)."""
    max_ttl = state.tokens.max_lease_ttl or MAX_LEASE_TTL
    data = {
        "default_lease_ttl": DEFAULT_LEASE_TTL,
        "description": "token based credentials",
        "force_no_cache": False,
        "max_lease_ttl": max_ttl,
        "token_type": "default-service",
    }
    return Reply(data=data, inject=True)


def handle_token_tune(state: State, call: Call) -> Reply:
    """``POST sys/auth/token/tune`` with ``max_lease_ttl`` (``0``/``system``: back to default).

    Only the max TTL is tunable here: it caps every grant of the token store
    (create and renew), as ``vault auth tune -max-lease-ttl=24h token/`` does.
    """
    if "max_lease_ttl" in call.data:
        value = call.data["max_lease_ttl"]
        state.tokens.max_lease_ttl = (
            0 if value == "system" else get_duration(call.data, "max_lease_ttl")
        )
    return NO_CONTENT


def handle_auth_enable(state: State, call: Call) -> Reply:
    """``POST sys/auth/:path``: the dev server cannot mount anything new."""
    path = call.params["path"].strip("/") + "/"
    if path in AUTH_MOUNTS:
        raise bad_request(f"path is already in use at {path}")
    raise bad_request(f"the renewer dev server only has {', '.join(sorted(AUTH_MOUNTS))}")


def handle_mounts_list(state: State, call: Call) -> Reply:
    """``GET sys/mounts``: the secrets engines this server has."""
    return Reply(data=SECRET_MOUNTS, inject=True)


def handle_mount_enable(state: State, call: Call) -> Reply:
    """``POST sys/mounts/:path``: the dev server cannot mount anything new."""
    path = call.params["path"].strip("/") + "/"
    if path in SECRET_MOUNTS:
        raise bad_request(f"path is already in use at {path}")
    raise bad_request(f"the renewer dev server only has {', '.join(sorted(SECRET_MOUNTS))}")


_READ, _UPDATE, _LIST, _DELETE = (
    Operation.READ,
    Operation.UPDATE,
    Operation.LIST,
    Operation.DELETE,
)
_POLICY = {
    _READ: handle_policy_read,
    _UPDATE: handle_policy_write,
    _DELETE: handle_policy_delete,
}

SYS_MOUNT = Mount(
    prefix="sys/",
    mount_type="system",
    routes=(
        Route("health", {_READ: handle_health}, unauthenticated=True),
        Route("seal-status", {_READ: handle_seal_status}, unauthenticated=True),
        Route("init", {_READ: handle_init}, unauthenticated=True),
        Route("policy/?", {_READ: handle_policy_list, _LIST: handle_policy_list}),
        Route(r"policy/(?P<name>[^/]+)", _POLICY),
        Route("policies/acl/?", {_LIST: handle_policy_list}),
        Route(r"policies/acl/(?P<name>[^/]+)", _POLICY),
        Route("auth", {_READ: handle_auth_list}),
        Route("auth/token/tune", {_READ: handle_token_tune_read, _UPDATE: handle_token_tune}),
        Route(r"auth/(?P<path>.+)", {_UPDATE: handle_auth_enable}),
        Route("mounts", {_READ: handle_mounts_list}),
        Route(r"mounts/(?P<path>.+)", {_UPDATE: handle_mount_enable}),
        Route("capabilities-self", {_UPDATE: handle_capabilities_self}),
        Route("capabilities", {_UPDATE: handle_capabilities}),
        Route("capabilities-accessor", {_UPDATE: handle_capabilities_accessor}),
    ),
)
