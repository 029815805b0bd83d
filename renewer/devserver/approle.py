"""AppRole at ``auth/approle/``: roles, role IDs, secret IDs and login.

Follows ``vault/builtin/credential/approle``. Login issues an orphan service
token with display name ``approle`` and metadata ``role_name``; its TTL comes
from the role (``token_ttl``, ``token_max_ttl``, ``token_period``), and
renewals re-read the role, as Vault's ``pathLoginRenew`` does. A wrong role
ID or secret ID is the same 400, so neither can be probed.

The mount is three rooms: this module holds the role handlers, login and
the mount; ``approle_backend`` what is stored; ``approle_secrets`` the
secret ID paths.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from renewer.devserver.approle_backend import Role, role_or_400, role_or_404
from renewer.devserver.approle_secrets import (
    handle_accessor_destroy,
    handle_accessor_lookup,
    handle_custom_secret_id,
    handle_secret_id_destroy,
    handle_secret_id_generate,
    handle_secret_id_list,
    handle_secret_id_lookup,
)
from renewer.devserver.fields import get_bool, get_duration, get_int, get_str, get_str_list
from renewer.devserver.protocol import NO_CONTENT, Call, Operation, Reply, bad_request, not_found
from renewer.devserver.routing import Mount, Route
from renewer.devserver.tokens import (
    Lease,
    TokenEntry,
    TokenType,
    auth_block,
    new_accessor,
    new_token_id,
)
from renewer.devserver.ttl import TTLInputs, calculate_ttl, sanitize_policies

if TYPE_CHECKING:
    from renewer.devserver.state import State

INVALID_CREDENTIALS = "invalid role or secret ID"
LOGIN_PATH = "auth/approle/login"


_ROLE_DURATIONS = {
    "secret_id_ttl": "secret_id_ttl",
    "token_ttl": "token_ttl",
    "token_max_ttl": "token_max_ttl",
    "token_period": "token_period",
    "period": "token_period",
    "token_explicit_max_ttl": "token_explicit_max_ttl",
}
_ROLE_INTS = ("secret_id_num_uses", "token_num_uses")
_ROLE_LISTS = {
    "token_policies": "token_policies",
    "policies": "token_policies",
    "secret_id_bound_cidrs": "secret_id_bound_cidrs",
    "token_bound_cidrs": "token_bound_cidrs",
}


def _role_changes(call: Call) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field_name, attribute in _ROLE_DURATIONS.items():
        if field_name in call.data:
            changes[attribute] = get_duration(call.data, field_name)
    for field_name in _ROLE_INTS:
        if field_name in call.data:
            changes[field_name] = get_int(call.data, field_name)
    for field_name, attribute in _ROLE_LISTS.items():
        if field_name in call.data:
            changes[attribute] = tuple(get_str_list(call.data, field_name) or ())
    for field_name in ("bind_secret_id", "token_no_default_policy"):
        if field_name in call.data:
            changes[field_name] = get_bool(call.data, field_name)
    if "token_type" in call.data:
        token_type = get_str(call.data, "token_type")
        if token_type not in ("default", "service", "batch", "default-service", "default-batch"):
            raise bad_request(f"invalid 'token_type' value {token_type!r}")
        changes["token_type"] = token_type
    return changes


def handle_role_write(state: State, call: Call) -> Reply:
    """``POST auth/approle/role/:name``: create or update (unset fields kept)."""
    name = call.params["name"]
    role = state.approle.roles.get(name) or Role(name=name, role_id=str(uuid.uuid4()))
    role = replace(role, **_role_changes(call))
    if not role.bind_secret_id and not role.secret_id_bound_cidrs and not role.token_bound_cidrs:
        raise bad_request(
            "at least one constraint should be enabled on the role "
            "(bind_secret_id, secret_id_bound_cidrs, token_bound_cidrs)"
        )
    state.approle.roles[name] = role
    return NO_CONTENT


def handle_role_read(state: State, call: Call) -> Reply:
    """``GET auth/approle/role/:name``."""
    role = role_or_404(state, call)
    data: dict[str, Any] = {
        "bind_secret_id": role.bind_secret_id,
        "local_secret_ids": False,
        "secret_id_bound_cidrs": list(role.secret_id_bound_cidrs),
        "secret_id_num_uses": role.secret_id_num_uses,
        "secret_id_ttl": role.secret_id_ttl,
        "token_bound_cidrs": list(role.token_bound_cidrs),
        "token_explicit_max_ttl": role.token_explicit_max_ttl,
        "token_max_ttl": role.token_max_ttl,
        "token_no_default_policy": role.token_no_default_policy,
        "token_num_uses": role.token_num_uses,
        "token_period": role.token_period,
        "token_policies": list(role.token_policies),
        "token_ttl": role.token_ttl,
        "token_type": role.token_type,
    }
    if role.token_policies:  # kept for clients of the pre-1.2 field names
        data["policies"] = list(role.token_policies)
    if role.token_period:
        data["period"] = role.token_period
    return Reply(data=data)


def handle_role_delete(state: State, call: Call) -> Reply:
    """``DELETE auth/approle/role/:name``: the role and its secret IDs."""
    name = call.params["name"]
    state.approle.roles.pop(name, None)
    for secret in [s for s in state.approle.secret_ids.values() if s.role_name == name]:
        state.approle.remove_secret(secret)
    return NO_CONTENT


def handle_role_list(state: State, call: Call) -> Reply:
    """``LIST auth/approle/role``."""
    if not state.approle.roles:
        raise not_found()
    return Reply(data={"keys": sorted(state.approle.roles)})


def handle_role_id_read(state: State, call: Call) -> Reply:
    """``GET auth/approle/role/:name/role-id``."""
    return Reply(data={"role_id": role_or_404(state, call).role_id})


def handle_role_id_write(state: State, call: Call) -> Reply:
    """``POST auth/approle/role/:name/role-id``: set a custom role ID."""
    role = role_or_400(state, call)
    role_id = get_str(call.data, "role_id")
    if not role_id:
        raise bad_request("missing role_id")
    other = state.approle.role_by_id(role_id)
    if other is not None and other.name != role.name:
        raise bad_request("role_id already in use")
    state.approle.roles[role.name] = replace(role, role_id=role_id)
    return NO_CONTENT


def _check_secret(state: State, role: Role, call: Call) -> dict[str, str]:
    """Spend a use of the login's secret ID; returns its metadata (for the token)."""
    if not role.bind_secret_id:
        return {}
    secret_id = get_str(call.data, "secret_id")
    if not secret_id:
        raise bad_request("missing secret_id")
    secret = state.approle.live_secret(secret_id, call.now)
    if secret is None or secret.role_name != role.name:
        raise bad_request(INVALID_CREDENTIALS)
    if secret.num_uses == 1:
        state.approle.remove_secret(secret)
    elif secret.num_uses > 1:
        state.approle.secret_ids[secret_id] = replace(secret, num_uses=secret.num_uses - 1)
    return dict(secret.metadata)


def handle_login(state: State, call: Call) -> Reply:
    """``POST auth/approle/login`` (unauthenticated): an orphan token for the role."""
    role_id = get_str(call.data, "role_id")
    if not role_id:
        raise bad_request("missing role_id")
    role = state.approle.role_by_id(role_id)
    if role is None:
        raise bad_request(INVALID_CREDENTIALS)
    secret_metadata = _check_secret(state, role, call)
    entry = _login_token(role, secret_metadata, now=call.now)
    state.tokens.add(entry)
    assert entry.lease is not None
    return Reply(auth=auth_block(entry, ttl=entry.lease.ttl), mount_type="")


def _login_token(role: Role, secret_metadata: dict[str, str], *, now: float) -> TokenEntry:
    """The login's token: the secret ID's metadata plus ``role_name`` (path_login.go)."""
    inputs = TTLInputs(
        backend_ttl=role.token_ttl,
        period=role.token_period,
        backend_max_ttl=role.token_max_ttl,
        explicit_max_ttl=role.token_explicit_max_ttl,
    )
    ttl = calculate_ttl(inputs, now=now, start=now).ttl
    policies = sanitize_policies(role.token_policies, add_default=not role.token_no_default_policy)
    if role.token_no_default_policy:
        policies = tuple(p for p in policies if p != "default")
    batch = role.token_type in ("batch", "default-batch")
    token_type = TokenType.BATCH if batch else TokenType.SERVICE
    return TokenEntry(
        id=new_token_id(token_type),
        accessor="" if batch else new_accessor(),
        policies=policies,
        path=LOGIN_PATH,
        meta={**secret_metadata, "role_name": role.name},
        display_name="approle",
        num_uses=role.token_num_uses,
        creation_time=float(int(now)),
        creation_ttl=ttl,
        explicit_max_ttl=role.token_explicit_max_ttl,
        period=role.token_period,
        parent="",
        type=token_type,
        lease=Lease(
            issue_time=now,
            expire_time=now + ttl,
            ttl=ttl,
            renewable=not batch,
            backend_max_ttl=role.token_max_ttl,
        ),
    )


_R, _U, _D, _L = Operation.READ, Operation.UPDATE, Operation.DELETE, Operation.LIST
_NAME = r"role/(?P<name>[^/]+)"

APPROLE_MOUNT = Mount(
    prefix="auth/approle/",
    mount_type="approle",
    routes=(
        Route("login", {_U: handle_login}, unauthenticated=True),
        Route("role/?", {_L: handle_role_list}),
        Route(_NAME, {_R: handle_role_read, _U: handle_role_write, _D: handle_role_delete}),
        Route(_NAME + "/role-id", {_R: handle_role_id_read, _U: handle_role_id_write}),
        Route(_NAME + "/secret-id/?", {_U: handle_secret_id_generate, _L: handle_secret_id_list}),
        Route(_NAME + "/custom-secret-id", {_U: handle_custom_secret_id}),
        Route(_NAME + "/secret-id/lookup", {_U: handle_secret_id_lookup}),
        Route(
            _NAME + "/secret-id/destroy",
            {_U: handle_secret_id_destroy, _D: handle_secret_id_destroy},
        ),
        Route(_NAME + "/secret-id-accessor/lookup", {_U: handle_accessor_lookup}),
        Route(
            _NAME + "/secret-id-accessor/destroy",
            {_U: handle_accessor_destroy, _D: handle_accessor_destroy},
        ),
    ),
)
