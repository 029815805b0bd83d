"""HTTP handlers of ``auth/token/``: create, lookup, renew, revoke, accessors.

Each handler follows its namesake in ``vault/token_store.go``, including the
order of its checks, because the order decides which 400 a client sees when
a request is wrong in two ways at once.
Creation, the largest part, has a module of its own: ``token_create``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from renewer.devserver.fields import get_duration, get_str
from renewer.devserver.protocol import (
    NO_CONTENT,
    ApiError,
    Call,
    Operation,
    Reply,
    bad_request,
    handler_error,
    not_found,
)
from renewer.devserver.routing import Mount, Route
from renewer.devserver.token_create import handle_create, handle_create_orphan
from renewer.devserver.tokens import TokenEntry, TokenType, auth_block, lookup_data

if TYPE_CHECKING:
    from renewer.devserver.state import State


def _lookup_reply(state: State, call: Call, token_id: str) -> Reply:
    entry = state.tokens.get_tainted(token_id, call.now)
    if entry is None:
        raise ApiError(403, "bad token")
    return Reply(data=lookup_data(entry, call.now, token_id=token_id))


def handle_lookup_self(state: State, call: Call) -> Reply:
    """``GET|POST auth/token/lookup-self``."""
    return _lookup_reply(state, call, call.token_id)


def handle_lookup(state: State, call: Call) -> Reply:
    """``POST auth/token/lookup``: no ``token`` means the caller's own, as in Vault."""
    return _lookup_reply(state, call, get_str(call.data, "token") or call.token_id)


def _by_accessor(state: State, call: Call) -> TokenEntry:
    accessor = get_str(call.data, "accessor")
    if not accessor:
        raise handler_error("missing accessor")
    entry = state.tokens.get_by_accessor(accessor, call.now)
    if entry is None:
        raise handler_error("invalid accessor")
    return entry


def handle_lookup_accessor(state: State, call: Call) -> Reply:
    """``POST auth/token/lookup-accessor``: the lookup data with ``id`` blanked."""
    entry = _by_accessor(state, call)
    return Reply(data=lookup_data(entry, call.now, token_id=""))


def _renew(state: State, call: Call, entry: TokenEntry, *, client_token: str | None) -> Reply:
    increment = get_duration(call.data, "increment")
    renewal = state.tokens.renew(entry, increment=increment, now=call.now)
    auth = auth_block(renewal.entry, ttl=renewal.ttl, client_token=client_token)
    return Reply(auth=auth, warnings=renewal.warnings)


def _token_for_renewal(state: State, call: Call, token_id: str) -> TokenEntry:
    if not token_id:
        raise bad_request("missing token ID")
    entry = state.tokens.get(token_id, call.now)
    if entry is None:
        raise bad_request("token not found")
    return entry


def handle_renew_self(state: State, call: Call) -> Reply:
    """``POST auth/token/renew-self``."""
    entry = _token_for_renewal(state, call, call.token_id)
    return _renew(state, call, entry, client_token=None)


def handle_renew(state: State, call: Call) -> Reply:
    """``POST auth/token/renew``."""
    entry = _token_for_renewal(state, call, get_str(call.data, "token"))
    return _renew(state, call, entry, client_token=None)


def handle_renew_accessor(state: State, call: Call) -> Reply:
    """``POST auth/token/renew-accessor``: same reply, ``client_token`` blanked."""
    entry = _by_accessor(state, call)
    return _renew(state, call, entry, client_token="")


def _revoke(state: State, call: Call, token_id: str) -> Reply:
    entry = state.tokens.get(token_id, call.now)
    if entry is None:
        return NO_CONTENT  # revoking an unknown token is a silent success in Vault
    if entry.type is TokenType.BATCH:
        raise bad_request("batch tokens cannot be revoked")
    state.tokens.revoke_tree(entry.id)
    return NO_CONTENT


def handle_revoke_self(state: State, call: Call) -> Reply:
    """``POST auth/token/revoke-self``: the caller and all its descendants."""
    return _revoke(state, call, call.token_id)


def handle_revoke(state: State, call: Call) -> Reply:
    """``POST auth/token/revoke``."""
    token_id = get_str(call.data, "token")
    if not token_id:
        raise bad_request("missing token ID")
    return _revoke(state, call, token_id)


def handle_revoke_accessor(state: State, call: Call) -> Reply:
    """``POST auth/token/revoke-accessor``; an unknown accessor is a 200 with a warning."""
    accessor = get_str(call.data, "accessor")
    if not accessor:
        raise handler_error("missing accessor")
    entry = state.tokens.get_by_accessor(accessor, call.now)
    if entry is None:
        return Reply(warnings=("No token found with this accessor",))
    state.tokens.revoke_tree(entry.id)
    return NO_CONTENT


def handle_revoke_orphan(state: State, call: Call) -> Reply:
    """``POST auth/token/revoke-orphan``: sudo is checked here, so its absence is a 400."""
    token_id = get_str(call.data, "token")
    if not token_id:
        raise bad_request("missing token ID")
    caller = call.token
    if caller is None or not state.policies.acl(caller.policies).has_sudo(call.path):
        raise bad_request("root or sudo privileges required to revoke and orphan")
    entry = state.tokens.get(token_id, call.now)
    if entry is None:
        raise bad_request("token to revoke not found")
    if entry.type is TokenType.BATCH:
        raise bad_request("batch tokens cannot be revoked")
    state.tokens.revoke_orphan(entry.id)
    return NO_CONTENT


def handle_list_accessors(state: State, call: Call) -> Reply:
    """``LIST auth/token/accessors``: every live service token's accessor."""
    keys = state.tokens.accessors(call.now)
    if not keys:
        raise not_found()
    return Reply(data={"keys": keys})


_READ, _UPDATE, _LIST = Operation.READ, Operation.UPDATE, Operation.LIST

TOKEN_MOUNT = Mount(
    prefix="auth/token/",
    mount_type="token",
    routes=(
        Route("create", {_UPDATE: handle_create}),
        Route("create-orphan", {_UPDATE: handle_create_orphan}),
        Route("lookup-self", {_READ: handle_lookup_self, _UPDATE: handle_lookup_self}),
        Route("lookup", {_UPDATE: handle_lookup}),
        Route("lookup-accessor", {_UPDATE: handle_lookup_accessor}),
        Route("renew-self", {_UPDATE: handle_renew_self}),
        Route("renew", {_UPDATE: handle_renew}),
        Route("renew-accessor", {_UPDATE: handle_renew_accessor}),
        Route("revoke-self", {_UPDATE: handle_revoke_self}),
        Route("revoke", {_UPDATE: handle_revoke}),
        Route("revoke-accessor", {_UPDATE: handle_revoke_accessor}),
        Route("revoke-orphan", {_UPDATE: handle_revoke_orphan}),
        Route("accessors/", {_LIST: handle_list_accessors}),
    ),
)

ROOT_PATHS = ("auth/token/accessors", "auth/token/revoke-orphan/")
"""Prefixes the token store marks as needing ``sudo`` (``PathsSpecial.Root``)."""
