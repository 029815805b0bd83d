"""KV version 2 at ``secret/``, as ``vault server -dev`` mounts it.

Follows the ``vault-plugin-secrets-kv`` API: versions with soft delete,
undelete and destroy, metadata with ``max_versions`` and ``cas_required``,
check-and-set writes, merge-patch. A deleted or destroyed version reads as a
404 that still carries the version metadata (hvac relies on that body).
All times are RFC3339 in UTC.

This module holds the data paths (``data``, ``delete``, ``undelete``,
``destroy``) and the mount; what is stored is in ``kv_store``, the metadata
and config paths in ``kv_metadata``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from renewer.devserver.fields import get_int
from renewer.devserver.kv_metadata import (
    handle_config_read,
    handle_config_write,
    handle_metadata_delete,
    handle_metadata_list,
    handle_metadata_read,
    handle_metadata_write,
)
from renewer.devserver.kv_store import DEFAULT_MAX_VERSIONS, Secret, Version, version_metadata
from renewer.devserver.protocol import NO_CONTENT, Call, Operation, Reply, bad_request, not_found
from renewer.devserver.routing import Mount, Route

if TYPE_CHECKING:
    from renewer.devserver.state import State


def _exists(state: State, params: Mapping[str, str]) -> bool:
    return params["path"] in state.kv.secrets


def handle_read(state: State, call: Call) -> Reply:
    """``GET secret/data/:path[?version=N]``."""
    secret = state.kv.secrets.get(call.params["path"])
    if secret is None:
        raise not_found()
    number = get_int(call.data, "version") or secret.current_version
    version = secret.versions.get(number)
    if version is None:
        raise not_found()
    metadata = version_metadata(secret, number)
    if not version.live:
        return Reply(data={"data": None, "metadata": metadata}, status=404)
    return Reply(data={"data": dict(version.data or {}), "metadata": metadata})


def _check_cas(state: State, secret: Secret | None, options: Mapping[str, Any]) -> None:
    current = secret.current_version if secret is not None else 0
    if "cas" in options:
        if get_int(options, "cas") != current:
            raise bad_request("check-and-set parameter did not match the current version")
    elif state.kv.config.cas_required or (secret is not None and secret.cas_required):
        raise bad_request("check-and-set parameter required for this call")


def _options(call: Call) -> Mapping[str, Any]:
    options = call.data.get("options") or {}
    if not isinstance(options, dict):
        raise bad_request("invalid options")
    return options


def _add_version(state: State, path: str, data: Mapping[str, Any], now: float) -> Reply:
    secret = state.kv.secrets.get(path)
    if secret is None:
        secret = Secret(created_time=now, updated_time=now)
        state.kv.secrets[path] = secret
    secret.current_version += 1
    secret.versions[secret.current_version] = Version(data=dict(data), created_time=now)
    secret.updated_time = now
    limit = secret.max_versions or state.kv.config.max_versions or DEFAULT_MAX_VERSIONS
    # As the KV plugin's path_data.go: oldest_version stays 0 until versions are pruned,
    # then names the oldest one kept.
    if secret.current_version - secret.oldest_version >= limit:
        to_delete = secret.current_version - limit
        for version in range(secret.oldest_version, to_delete + 1):
            secret.versions.pop(version, None)
        secret.oldest_version = to_delete + 1
    return Reply(data=version_metadata(secret, secret.current_version))


def handle_write(state: State, call: Call) -> Reply:
    """``POST|PUT secret/data/:path``: a new version, honouring ``options.cas``."""
    data = call.data.get("data")
    if data is None:
        raise bad_request("no data provided")
    if not isinstance(data, dict):
        raise bad_request("data must be a JSON object")
    path = call.params["path"]
    _check_cas(state, state.kv.secrets.get(path), _options(call))
    return _add_version(state, path, data, call.now)


def _merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386 JSON merge patch: ``null`` removes a key, objects merge recursively."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge_patch(result[key], value)
        else:
            result[key] = value
    return result


def handle_patch(state: State, call: Call) -> Reply:
    """``PATCH secret/data/:path``: merge into the current live version."""
    path = call.params["path"]
    secret = state.kv.secrets.get(path)
    current = secret.versions.get(secret.current_version) if secret else None
    if secret is None or current is None or not current.live:
        raise not_found()
    patch = call.data.get("data")
    if not isinstance(patch, dict):
        raise bad_request("no data provided")
    _check_cas(state, secret, _options(call))
    return _add_version(state, path, _merge_patch(current.data or {}, patch), call.now)


def _mark(secret: Secret, numbers: list[int], **changes: Any) -> None:
    for number in numbers:
        version = secret.versions.get(number)
        if version is not None and not version.destroyed:
            secret.versions[number] = replace(version, **changes)


def _versions(call: Call) -> list[int]:
    raw = call.data.get("versions")
    if isinstance(raw, int | str):
        raw = [raw]
    if not raw or not isinstance(raw, list):
        raise bad_request("no version number provided")
    return [get_int({"v": item}, "v") for item in raw]


def handle_delete_latest(state: State, call: Call) -> Reply:
    """``DELETE secret/data/:path``: soft-delete the current version."""
    secret = state.kv.secrets.get(call.params["path"])
    if secret is not None:
        _mark(secret, [secret.current_version], deletion_time=call.now)
    return NO_CONTENT


def handle_delete_versions(state: State, call: Call) -> Reply:
    """``POST secret/delete/:path`` ``{"versions": [...]}``."""
    versions = _versions(call)
    secret = state.kv.secrets.get(call.params["path"])
    if secret is not None:
        _mark(secret, versions, deletion_time=call.now)
    return NO_CONTENT


def handle_undelete(state: State, call: Call) -> Reply:
    """``POST secret/undelete/:path``: destroyed versions stay destroyed."""
    versions = _versions(call)
    secret = state.kv.secrets.get(call.params["path"])
    if secret is not None:
        _mark(secret, versions, deletion_time=0.0)
    return NO_CONTENT


def handle_destroy(state: State, call: Call) -> Reply:
    """``PUT|POST secret/destroy/:path``: the data is gone for good."""
    versions = _versions(call)
    secret = state.kv.secrets.get(call.params["path"])
    if secret is not None:
        _mark(secret, versions, destroyed=True, data=None)
    return NO_CONTENT


_R, _C, _U, _D, _L, _P = (
    Operation.READ,
    Operation.CREATE,
    Operation.UPDATE,
    Operation.DELETE,
    Operation.LIST,
    Operation.PATCH,
)

KV_MOUNT = Mount(
    prefix="secret/",
    mount_type="kv",
    routes=(
        Route("config", {_R: handle_config_read, _U: handle_config_write}),
        Route(
            r"data/(?P<path>.+)",
            {
                _R: handle_read,
                _C: handle_write,
                _U: handle_write,
                _P: handle_patch,
                _D: handle_delete_latest,
            },
            existence=_exists,
        ),
        Route(r"metadata/(?P<path>(?:.*/)?)", {_L: handle_metadata_list}),
        Route(
            r"metadata/(?P<path>.+)",
            {
                _R: handle_metadata_read,
                _C: handle_metadata_write,
                _U: handle_metadata_write,
                _D: handle_metadata_delete,
            },
            existence=_exists,
        ),
        Route(r"delete/(?P<path>.+)", {_U: handle_delete_versions}),
        Route(r"undelete/(?P<path>.+)", {_U: handle_undelete}),
        Route(r"destroy/(?P<path>.+)", {_U: handle_destroy}),
    ),
)
