"""KV v2 metadata and config: ``secret/metadata/*`` and ``secret/config``.

Settings about secrets rather than their data: per-key ``max_versions``,
``cas_required``, ``delete_version_after`` and custom metadata, the listing
of keys, and the mount-wide defaults. Its own room because none of it
writes a version; the data paths are in ``kv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from renewer.devserver.durations import human_duration, rfc3339_nano
from renewer.devserver.fields import get_bool, get_duration, get_int
from renewer.devserver.kv_store import Secret, version_metadata
from renewer.devserver.protocol import NO_CONTENT, Call, Reply, not_found

if TYPE_CHECKING:
    from renewer.devserver.state import State


def handle_metadata_read(state: State, call: Call) -> Reply:
    """``GET secret/metadata/:path``."""
    secret = state.kv.secrets.get(call.params["path"])
    if secret is None:
        raise not_found()
    versions = {
        str(number): {
            key: value
            for key, value in version_metadata(secret, number).items()
            if key in ("created_time", "deletion_time", "destroyed")
        }
        for number in sorted(secret.versions)
    }
    return Reply(
        data={
            "cas_required": secret.cas_required,
            "created_time": rfc3339_nano(secret.created_time, utc=True),
            "current_version": secret.current_version,
            "custom_metadata": secret.custom_metadata,
            "delete_version_after": human_duration(secret.delete_version_after),
            "max_versions": secret.max_versions,
            "oldest_version": secret.oldest_version,
            "updated_time": rfc3339_nano(secret.updated_time, utc=True),
            "versions": versions,
        }
    )


def handle_metadata_write(state: State, call: Call) -> Reply:
    """``POST secret/metadata/:path``: settings for a key (created if absent)."""
    path = call.params["path"]
    secret = state.kv.secrets.get(path)
    if secret is None:
        secret = Secret(created_time=call.now, updated_time=call.now)
        state.kv.secrets[path] = secret
    if "max_versions" in call.data:
        secret.max_versions = get_int(call.data, "max_versions")
    if "cas_required" in call.data:
        secret.cas_required = get_bool(call.data, "cas_required")
    if "delete_version_after" in call.data:
        secret.delete_version_after = get_duration(call.data, "delete_version_after")
    custom = call.data.get("custom_metadata")
    if isinstance(custom, dict):
        secret.custom_metadata = {str(k): str(v) for k, v in custom.items()}
    secret.updated_time = call.now
    return NO_CONTENT


def handle_metadata_delete(state: State, call: Call) -> Reply:
    """``DELETE secret/metadata/:path``: every version and the metadata."""
    state.kv.secrets.pop(call.params["path"], None)
    return NO_CONTENT


def handle_metadata_list(state: State, call: Call) -> Reply:
    """``LIST secret/metadata/:dir/``: children, folders with a trailing ``/``."""
    prefix = call.params["path"]
    keys: set[str] = set()
    for path in state.kv.secrets:
        if path.startswith(prefix) and path != prefix:
            rest = path[len(prefix) :]
            keys.add(rest.split("/", 1)[0] + "/" if "/" in rest else rest)
    if not keys:
        raise not_found()
    return Reply(data={"keys": sorted(keys)})


def handle_config_read(state: State, call: Call) -> Reply:
    """``GET secret/config``."""
    config = state.kv.config
    return Reply(
        data={
            "cas_required": config.cas_required,
            "delete_version_after": human_duration(config.delete_version_after),
            "max_versions": config.max_versions,
        }
    )


def handle_config_write(state: State, call: Call) -> Reply:
    """``POST secret/config``."""
    config = state.kv.config
    if "max_versions" in call.data:
        config.max_versions = get_int(call.data, "max_versions")
    if "cas_required" in call.data:
        config.cas_required = get_bool(call.data, "cas_required")
    if "delete_version_after" in call.data:
        config.delete_version_after = get_duration(call.data, "delete_version_after")
    return NO_CONTENT
