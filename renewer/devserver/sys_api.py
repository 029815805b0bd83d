"""HTTP handlers of ``sys/``: health, seal status, policies, capabilities.

Shapes follow ``vault/logical_system.go`` and ``http/sys_health.go``. The old
``sys/policy`` API answers ``rules`` and copies its data to the top level of
the reply (``injectDataIntoTopRoutes``); ``sys/policies/acl`` answers
``policy`` and does not.

The mount table (``sys/auth``, ``sys/mounts``, the token mount's tune) is
routed here and answered in ``sys_mounts``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from renewer.devserver.fields import get_str, get_str_list
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
from renewer.devserver.sys_mounts import (
    handle_auth_enable,
    handle_auth_list,
    handle_mount_enable,
    handle_mounts_list,
    handle_token_tune,
    handle_token_tune_read,
)

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
