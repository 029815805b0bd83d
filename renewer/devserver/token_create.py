"""``auth/token/create`` and ``create-orphan``: a new token, as ``handleCreateCommon`` makes it.

Its own room because creation is most of the token store's rules: the
parent checks, the type, the policy subset and the non-assignable policies,
sudo for custom IDs, orphans and periods, then the TTL. The checks run in
Vault's order, because the order decides which 400 a client sees when a
request is wrong in two ways at once. The other ``auth/token/`` handlers
and the mount are in ``token_api``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from renewer.devserver.fields import (
    get_bool,
    get_duration,
    get_int,
    get_str,
    get_str_list,
    get_str_map,
)
from renewer.devserver.protocol import Call, Reply, bad_request
from renewer.devserver.state import NON_ASSIGNABLE
from renewer.devserver.tokens import (
    Lease,
    TokenEntry,
    TokenType,
    auth_block,
    new_accessor,
    new_token_id,
)
from renewer.devserver.ttl import TTLInputs, calculate_ttl, sanitize_display_name, sanitize_policies

if TYPE_CHECKING:
    from renewer.devserver.state import State

_CUSTOM_ID_WARNING = (
    "Supplying a custom ID for the token uses the weaker SHA1 hashing instead of the more "
    "secure SHA2-256 HMAC for token obfuscation. SHA1 hashed tokens on the wire leads to "
    "less secure lookups."
)


@dataclass(frozen=True, slots=True)
class _Lifetimes:
    ttl: int
    explicit_max_ttl: int
    period: int


def _parent(state: State, call: Call) -> TokenEntry:
    parent = state.tokens.get(call.token_id, call.now)
    if parent is None:
        raise bad_request("parent token lookup failed: no parent found")
    if parent.type is TokenType.BATCH:
        raise bad_request("batch tokens cannot create more tokens")
    if parent.num_uses > 0:
        raise bad_request("restricted use token cannot generate child tokens")
    return parent


def _token_type(call: Call) -> TokenType:
    requested = get_str(call.data, "type")
    if requested in ("", "service"):
        return TokenType.SERVICE
    if requested != "batch":
        raise bad_request("invalid 'token_type' value")
    for name in ("explicit_max_ttl", "num_uses", "period"):
        value = get_int(call.data, name) if name == "num_uses" else get_duration(call.data, name)
        if value != 0:
            raise bad_request(f'batch tokens cannot have "{name}" set')
    return TokenType.BATCH


def _child_policies(call: Call, parent: TokenEntry, *, is_sudo: bool) -> tuple[str, ...]:
    """The policy rules of handleCreateCommon (no token roles)."""
    requested = get_str_list(call.data, "policies") or []
    no_default = get_bool(call.data, "no_default_policy")
    add_default = False
    if not requested:
        requested = list(parent.policies)
    elif not is_sudo:
        wanted = set(sanitize_policies(requested, add_default=False))
        if not wanted <= set(sanitize_policies(parent.policies, add_default=False)):
            raise bad_request("child policies must be subset of parent")
        add_default = not no_default and "default" in parent.policies
    else:
        add_default = not no_default
    policies = sanitize_policies(requested, add_default=add_default)
    if no_default:
        policies = tuple(p for p in policies if p != "default")
    return policies


def _check_policies(policies: tuple[str, ...], parent: TokenEntry, token_type: TokenType) -> None:
    for policy in policies:
        if policy in NON_ASSIGNABLE:
            raise bad_request(f'cannot assign policy "{policy}"')
    if "root" in policies:
        if not parent.is_root:
            raise bad_request("root tokens may not be created without parent token being root")
        if token_type is TokenType.BATCH:
            raise bad_request("batch tokens cannot be root tokens")


def _lifetimes(call: Call, *, is_sudo: bool) -> _Lifetimes:
    explicit_max_ttl = get_duration(call.data, "explicit_max_ttl")
    if explicit_max_ttl < 0:
        raise bad_request("explicit_max_ttl must be positive")
    period = get_duration(call.data, "period")
    if period < 0:
        raise bad_request("period must be positive")
    if period > 0 and not is_sudo:
        raise bad_request("root or sudo privileges required to create periodic token")
    ttl = get_duration(call.data, "ttl") or get_duration(call.data, "lease")
    if ttl < 0:
        raise bad_request("ttl must be positive")
    return _Lifetimes(ttl=ttl, explicit_max_ttl=explicit_max_ttl, period=period)


def _grant(
    lifetimes: _Lifetimes, policies: tuple[str, ...], *, now: float, start: float, max_ttl: int
) -> tuple[int, tuple[str, ...]]:
    ttl = lifetimes.ttl
    warnings: tuple[str, ...] = ()
    if lifetimes.period > 0 or ttl > 0 or "root" not in policies:
        inputs = TTLInputs(
            backend_ttl=ttl,
            period=lifetimes.period,
            explicit_max_ttl=lifetimes.explicit_max_ttl,
            system_max_ttl=max_ttl,
        )
        decision = calculate_ttl(inputs, now=now, start=start)
        ttl, warnings = decision.ttl, decision.warnings
    if ttl == 0 and lifetimes.explicit_max_ttl > 0:
        ttl = lifetimes.explicit_max_ttl
    return ttl, warnings


@dataclass(frozen=True, slots=True)
class _Request:
    """A create request that passed every check, in handleCreateCommon's order."""

    token_type: TokenType
    renewable: bool
    num_uses: int
    custom_id: str
    policies: tuple[str, ...]
    orphan: bool
    lifetimes: _Lifetimes


def _checked_request(
    call: Call, parent: TokenEntry, *, is_sudo: bool, orphan_endpoint: bool
) -> _Request:
    token_type = _token_type(call)
    renewable = get_bool(call.data, "renewable", True) and token_type is TokenType.SERVICE
    num_uses = get_int(call.data, "num_uses")
    if num_uses < 0:
        raise bad_request("number of uses cannot be negative")
    custom_id = get_str(call.data, "id")
    if custom_id and not is_sudo:
        raise bad_request("root or sudo privileges required to specify token id")
    policies = _child_policies(call, parent, is_sudo=is_sudo)
    _check_policies(policies, parent, token_type)
    no_parent = get_bool(call.data, "no_parent")
    # An explicit no_parent needs sudo on either endpoint: handleCreateCommon checks it
    # before it looks at which endpoint was called (found by the differential property).
    if no_parent and not is_sudo:
        raise bad_request("root or sudo privileges required to create orphan token")
    return _Request(
        token_type=token_type,
        renewable=renewable,
        num_uses=num_uses,
        custom_id=custom_id,
        policies=policies,
        orphan=orphan_endpoint or no_parent,
        lifetimes=_lifetimes(call, is_sudo=is_sudo),
    )


def _create(state: State, call: Call, *, orphan_endpoint: bool) -> Reply:
    parent = _parent(state, call)
    is_sudo = state.policies.acl(parent.policies).has_sudo(call.path)
    request = _checked_request(call, parent, is_sudo=is_sudo, orphan_endpoint=orphan_endpoint)
    creation_time = float(int(call.now))
    ttl, warnings = _grant(
        request.lifetimes,
        request.policies,
        now=call.now,
        start=creation_time,
        max_ttl=state.tokens.mount_max_ttl(),
    )
    renewable = request.renewable
    if ttl == 0:
        if parent.creation_ttl != 0:
            raise bad_request("expiring root tokens cannot create non-expiring root tokens")
        renewable = False
    if request.custom_id:
        warnings += (_CUSTOM_ID_WARNING,)
    entry = TokenEntry(
        id=request.custom_id or new_token_id(request.token_type),
        accessor="" if request.token_type is TokenType.BATCH else new_accessor(),
        policies=request.policies,
        path=call.path,
        meta=get_str_map(call.data, "meta"),
        display_name=sanitize_display_name(get_str(call.data, "display_name")),
        num_uses=request.num_uses,
        creation_time=creation_time,
        creation_ttl=ttl,
        explicit_max_ttl=request.lifetimes.explicit_max_ttl,
        period=request.lifetimes.period,
        parent="" if request.orphan else parent.id,
        type=request.token_type,
        lease=_new_lease(
            request.token_type, ttl=ttl, renewable=renewable, now=call.now, start=creation_time
        ),
        entity_id="" if request.orphan else parent.entity_id,
    )
    state.tokens.add(entry)
    missing = [p for p in request.policies if not state.policies.exists(p)]
    warnings += tuple(f'Policy "{p}" does not exist' for p in missing)
    return Reply(auth=auth_block(entry, ttl=ttl), warnings=warnings)


def _new_lease(
    token_type: TokenType, *, ttl: int, renewable: bool, now: float, start: float
) -> Lease:
    if token_type is TokenType.BATCH:  # no lease record; Vault derives one from creation + TTL
        return Lease(
            issue_time=start, expire_time=start + ttl if ttl else 0, ttl=ttl, renewable=False
        )
    return Lease(issue_time=now, expire_time=now + ttl if ttl else 0, ttl=ttl, renewable=renewable)


def handle_create(state: State, call: Call) -> Reply:
    """``POST auth/token/create``."""
    return _create(state, call, orphan_endpoint=False)


def handle_create_orphan(state: State, call: Call) -> Reply:
    """``POST auth/token/create-orphan``: orphan without sudo; the ACL on the path decides."""
    return _create(state, call, orphan_endpoint=True)
