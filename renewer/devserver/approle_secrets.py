"""AppRole secret IDs: issuing, listing, looking up and destroying them.

Follows ``path_role.go``'s ``secret-id``, ``custom-secret-id`` and
``secret-id-accessor`` paths, including Vault's uneven answers for unknown
ones (204 for a lookup by secret ID, a 404 envelope for a lookup by
accessor, a 500 for destroying by accessor). It is its own room because
these paths are half the mount and none of them touches tokens; login,
which spends a secret ID, stays in ``approle``.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from renewer.devserver.approle_backend import SecretID, is_expired, role_or_400
from renewer.devserver.durations import ZERO_TIME, rfc3339_nano
from renewer.devserver.fields import get_duration, get_int, get_str, get_str_list
from renewer.devserver.protocol import (
    NO_CONTENT,
    ApiError,
    Call,
    Reply,
    bad_request,
    multierror,
    not_found,
)

if TYPE_CHECKING:
    from renewer.devserver.state import State


def _issue_secret(state: State, call: Call, secret_id: str) -> Reply:
    role = role_or_400(state, call)
    ttl = get_duration(call.data, "ttl") or role.secret_id_ttl
    num_uses = get_int(call.data, "num_uses", role.secret_id_num_uses)
    if role.secret_id_ttl and ttl > role.secret_id_ttl:
        raise bad_request("ttl cannot be longer than the role's secret_id_ttl")
    metadata = _secret_metadata(call)
    secret = SecretID(
        secret_id=secret_id,
        accessor=str(uuid.uuid4()),
        role_name=role.name,
        creation_time=call.now,
        expiration_time=call.now + ttl if ttl else 0.0,
        ttl=ttl,
        num_uses=num_uses,
        metadata=metadata,
        cidr_list=tuple(get_str_list(call.data, "cidr_list") or ()),
    )
    if secret_id in state.approle.secret_ids:
        raise bad_request("SecretID is already registered")
    state.approle.secret_ids[secret_id] = secret
    state.approle.accessors[secret.accessor] = secret_id
    data = {
        "secret_id": secret_id,
        "secret_id_accessor": secret.accessor,
        "secret_id_num_uses": num_uses,
        "secret_id_ttl": ttl,
    }
    return Reply(data=data)


def _secret_metadata(call: Call) -> dict[str, str]:
    raw = get_str(call.data, "metadata")
    if not raw:
        return {}
    try:
        decoded = json.loads(raw)
    except ValueError:
        raise bad_request("failed to parse metadata: invalid JSON") from None
    if not isinstance(decoded, dict):
        raise bad_request("failed to parse metadata: expected a JSON object")
    return {str(k): str(v) for k, v in decoded.items()}


def handle_secret_id_generate(state: State, call: Call) -> Reply:
    """``POST auth/approle/role/:name/secret-id``."""
    return _issue_secret(state, call, str(uuid.uuid4()))


def handle_custom_secret_id(state: State, call: Call) -> Reply:
    """``POST auth/approle/role/:name/custom-secret-id``."""
    secret_id = get_str(call.data, "secret_id")
    if not secret_id:
        raise bad_request("missing secret_id")
    return _issue_secret(state, call, secret_id)


def handle_secret_id_list(state: State, call: Call) -> Reply:
    """``LIST auth/approle/role/:name/secret-id``: accessors of stored secret IDs.

    Expired ones included: OpenBao lists them until they are destroyed or tidied
    (seen on OpenBao 2.7.2: listed, lookup 204, destroy 204).
    """
    role = role_or_400(state, call)
    stored = [s.accessor for s in state.approle.secret_ids.values() if s.role_name == role.name]
    if not stored:
        raise not_found()
    return Reply(data={"keys": sorted(stored)})


def _secret_lookup_data(secret: SecretID) -> dict[str, Any]:
    return {
        "cidr_list": list(secret.cidr_list),
        "creation_time": rfc3339_nano(secret.creation_time),
        "expiration_time": rfc3339_nano(secret.expiration_time)
        if secret.expiration_time
        else ZERO_TIME,
        "last_updated_time": rfc3339_nano(secret.creation_time),
        "metadata": dict(secret.metadata),
        "secret_id_accessor": secret.accessor,
        "secret_id_num_uses": secret.num_uses,
        "secret_id_ttl": secret.ttl,
        "token_bound_cidrs": [],
    }


def _secret_of_role(state: State, call: Call, secret_id: str) -> SecretID | None:
    """The stored secret ID of this role, expired or not."""
    role = role_or_400(state, call)
    secret = state.approle.secret_ids.get(secret_id)
    return secret if secret is not None and secret.role_name == role.name else None


def _accessor_unknown(accessor: str) -> str:
    return f'failed to find accessor entry for secret_id_accessor: "{accessor}"'


def _secret_by_accessor(state: State, call: Call) -> tuple[str, SecretID | None]:
    accessor = get_str(call.data, "secret_id_accessor")
    if not accessor:
        raise bad_request("missing secret_id_accessor")
    secret_id = state.approle.accessors.get(accessor, "")
    return accessor, _secret_of_role(state, call, secret_id)


def handle_secret_id_lookup(state: State, call: Call) -> Reply:
    """``POST auth/approle/role/:name/secret-id/lookup``; unknown → 204 like Vault."""
    secret_id = get_str(call.data, "secret_id")
    if not secret_id:
        raise bad_request("missing secret_id")
    secret = _secret_of_role(state, call, secret_id)
    if secret is None or is_expired(secret, call.now):
        return NO_CONTENT
    return Reply(data=_secret_lookup_data(secret))


def handle_secret_id_destroy(state: State, call: Call) -> Reply:
    """``POST|DELETE auth/approle/role/:name/secret-id/destroy``."""
    secret_id = get_str(call.data, "secret_id")
    if not secret_id:
        raise bad_request("missing secret_id")
    secret = _secret_of_role(state, call, secret_id)
    if secret is not None:
        state.approle.remove_secret(secret)
    return NO_CONTENT


def handle_accessor_lookup(state: State, call: Call) -> Reply:
    """``POST auth/approle/role/:name/secret-id-accessor/lookup``.

    An unknown accessor is a 404 whose body is an envelope with
    ``data.error`` (Vault >= 1.9 answers through ``RespondWithStatusCode``).
    """
    accessor, secret = _secret_by_accessor(state, call)
    if secret is None:
        return Reply(data={"error": _accessor_unknown(accessor)}, status=404)
    if is_expired(secret, call.now):
        return NO_CONTENT  # the accessor is known, its secret ID is gone
    return Reply(data=_secret_lookup_data(secret))


def handle_accessor_destroy(state: State, call: Call) -> Reply:
    """``POST|DELETE auth/approle/role/:name/secret-id-accessor/destroy``.

    An unknown accessor is a 500: Vault's handler returns a plain Go error
    there (unlike the lookup), which becomes an internal error.
    """
    accessor, secret = _secret_by_accessor(state, call)
    if secret is None:
        raise ApiError(500, multierror(_accessor_unknown(accessor)))
    state.approle.remove_secret(secret)
    return NO_CONTENT
