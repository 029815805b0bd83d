"""Whose token is it? The owner marks renewer puts in a token's ``meta``, and how to read them.

Pure. Several devvms (or several users of one host) often share one Vault
and one README config, so the display name ``token-devvm-wizard`` alone
cannot tell renewer's tokens apart: a heal's full scan on one machine once
revoked another machine's live token (issue 15). Every token renewer mints
therefore carries Vault token ``meta``:

* ``renewer_machine``: this installation's owner id, :func:`owner_id` (an
  HMAC of ``/etc/machine-id`` and the home directory: stable across runs,
  different per machine *and* per home, and not the machine id itself, which
  systemd asks applications never to publish);
* ``renewer_sink``: the sink's name in the config;
* ``renewer_rotation``: added by a rotation (issue 19) through :func:`mint_meta`.

:func:`ownership` reads those marks back. The sweep's rule, pinned by tests:
the full scan revokes a token named like ours only when it is :data:`MINE`
(this machine, this sink) or :data:`UNMARKED` (no renewer mark at all: the
seed's manual strays). A token marked by another renewer (:data:`ELSEWHERE`,
including the ``created-by: renewer`` tokens of releases before the marks,
whose machine is unknown) is never revoked by a scan; only the ledger, which
saw it in this machine's own file, may retire an unmarked-by-machine one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import Enum

MACHINE_KEY = "renewer_machine"
SINK_KEY = "renewer_sink"
ROTATION_KEY = "renewer_rotation"
LEGACY_KEY, LEGACY_VALUE = "created-by", "renewer"  # releases before the owner marks
RESERVED_PREFIX = "renewer_"  # config mint.meta may not set these

_CONTEXT = b"renewer token owner v1"  # a constant of ours: ids of other apps never collide
OWNER_ID_LENGTH = 16


class Ownership(Enum):
    """What a token's meta says about who minted it, seen from one sink."""

    MINE = "this machine's renewer, for this sink"
    UNMARKED = "no renewer mark (made by hand or by another tool)"
    LEGACY = "renewer, a release without machine marks (machine unknown)"
    ELSEWHERE = "renewer on another machine, home or sink"


def owner_id(machine_id: bytes, home: str) -> str:
    """This installation's id: HMAC-SHA256(machine-id, constant + home), 16 hex digits.

    Keyed by the machine id (the secret-ish input), so the published value
    says nothing about ``/etc/machine-id``; the home directory is in the
    message so two users, or two test homes, of one host are two owners.
    """
    digest = hmac.new(machine_id.strip(), _CONTEXT + b"\0" + home.encode(), hashlib.sha256)
    return digest.hexdigest()[:OWNER_ID_LENGTH]


def mint_meta(
    owner: str, sink: str, *, extra: Mapping[str, str] | None = None, rotation: str = ""
) -> dict[str, str]:
    """The ``meta`` of a token renewer mints for *sink*; our marks win over config's *extra*."""
    meta = dict(extra or {})
    meta[MACHINE_KEY] = owner
    meta[SINK_KEY] = sink
    if rotation:
        meta[ROTATION_KEY] = rotation
    return meta


def ownership(meta: Mapping[str, str], *, owner: str, sink: str) -> Ownership:
    """Classify a token by its *meta*, from the point of view of (*owner*, *sink*)."""
    machine = meta.get(MACHINE_KEY)
    if machine is not None:
        return (
            Ownership.MINE
            if machine == owner and meta.get(SINK_KEY) == sink
            else Ownership.ELSEWHERE
        )
    if any(key.startswith(RESERVED_PREFIX) for key in meta):
        return Ownership.ELSEWHERE  # marked by a renewer, but not with a machine: not ours to judge
    if meta.get(LEGACY_KEY) == LEGACY_VALUE:
        return Ownership.LEGACY
    return Ownership.UNMARKED


def describe_elsewhere(meta: Mapping[str, str]) -> str:
    """Words for a token another renewer marked: which machine id and sink (not secrets)."""
    machine = meta.get(MACHINE_KEY, "unknown")
    sink = meta.get(SINK_KEY) or meta.get("sink") or "unknown"
    return f"renewer_machine={machine}, renewer_sink={sink}"
