"""What the CLI token helper's ``store`` does with the token a login hands it.

Pure. The vault and bao CLIs give every token they log in with to the token
helper (``store``, the token on stdin) instead of writing ``~/.vault-token``
themselves. renewer's helper decides, per login:

* the token is **ours** (the drift guard passes: ``bao login <our token>``)
  → store it as given;
* a **foreign** token (a login) while the sink already holds a healthy token
  of ours → keep that one. Nothing is minted, so nothing is swept: a process
  that read the periodic token earlier keeps a live token, and a login costs
  Vault no token churn. The login token is kept apart for one-off use;
* a foreign token and no healthy token of ours in the sink → **heal** now,
  with the login's authority (the same heal as ``renewer run``).

And before any of that, :func:`same_vault`: a token is only ever sent to the
Vault it was issued by. bao tells the helper which server it used
(``BAO_ADDR``/``VAULT_ADDR`` in the helper's environment since OpenBao
PR #348); a login to another server is stored as given and never shown to
renewer's Vault.
"""

from __future__ import annotations

from enum import Enum
from urllib.parse import urlsplit

from renewer.core.drift import Verdict

_DEFAULT_PORTS = {"http": 80, "https": 443}


class StoreAction(Enum):
    """What ``store`` does with a token a login handed over."""

    STORE_OURS = "store"  # the token is ours: write it as given
    KEEP_CURRENT = "keep"  # the sink's token of ours is healthy: leave it, keep the login apart
    HEAL = "heal"  # mint ours with the login's authority


def plan_store(login: Verdict, current: Verdict | None) -> StoreAction:
    """*login*: the drift guard on the handed-over token; *current*: on the sink's (None: none)."""
    if login.ok:
        return StoreAction.STORE_OURS
    if current is not None and current.ok:
        return StoreAction.KEEP_CURRENT
    return StoreAction.HEAL


def _origin(address: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) address; None when it is not one."""
    try:
        parts = urlsplit(address.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def same_vault(cli_address: str, renewer_address: str) -> bool:
    """Do both addresses name the same server (scheme, host and port, case-blind)?

    Paths are ignored (Vault serves ``/v1`` at the root); ``localhost`` and
    ``127.0.0.1`` are *different*: renewer does not resolve names to decide
    where a token may go. Anything that is not an http(s) URL (``bao server
    -dev`` hands its helper ``dev-server``) matches nothing.
    """
    cli, ours = _origin(cli_address), _origin(renewer_address)
    return cli is not None and cli == ours
