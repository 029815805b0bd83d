"""``sys/auth``, ``sys/mounts`` and the token mount's tune: the fixed mount table.

The dev server's mounts are fixed (``token/`` and ``approle/`` auth,
``secret/`` KV v2, ``pki/``, ``sys/``): these handlers list them key for key
as OpenBao 2.7 does, refuse to enable new ones with a clear 400, and tune
the one setting that is tunable (the token mount's max lease TTL). Its own
room because it describes the server's shape, not its health, policies or
capabilities, which stay in ``sys_api``.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from renewer.devserver.fields import get_duration
from renewer.devserver.protocol import NO_CONTENT, Call, Reply, bad_request
from renewer.devserver.state import VERSION
from renewer.devserver.ttl import DEFAULT_LEASE_TTL, MAX_LEASE_TTL

if TYPE_CHECKING:
    from renewer.devserver.state import State

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
