"""What the AppRole mount stores: roles, secret IDs, their accessors, and lookups.

Shared by the role handlers and login (``approle``) and the secret ID
handlers (``approle_secrets``), so it is its own room below both: the
records, the backend that holds them under the state lock, and the two ways
a handler finds the role its path names (404 for reads, 400 for writes, as
Vault answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from renewer.devserver.protocol import ApiError, Call, bad_request, not_found
from renewer.devserver.tokens import RenewParams, TokenEntry

if TYPE_CHECKING:
    from renewer.devserver.state import State


@dataclass(frozen=True, slots=True)
class Role:
    """A role's settings; durations in seconds."""

    name: str
    role_id: str
    bind_secret_id: bool = True
    secret_id_num_uses: int = 0
    secret_id_ttl: int = 0
    secret_id_bound_cidrs: tuple[str, ...] = ()
    token_policies: tuple[str, ...] = ()
    token_ttl: int = 0
    token_max_ttl: int = 0
    token_period: int = 0
    token_explicit_max_ttl: int = 0
    token_no_default_policy: bool = False
    token_num_uses: int = 0
    token_type: str = "default"
    token_bound_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SecretID:
    """An issued secret ID; *expiration_time* 0 means it never expires."""

    secret_id: str
    accessor: str
    role_name: str
    creation_time: float
    expiration_time: float
    ttl: int
    num_uses: int
    metadata: dict[str, str]
    cidr_list: tuple[str, ...] = ()


class AppRoleBackend:
    """Roles and secret IDs of the mount (mutable, under the state lock)."""

    def __init__(self) -> None:
        self.roles: dict[str, Role] = {}
        self.secret_ids: dict[str, SecretID] = {}
        self.accessors: dict[str, str] = {}

    def role_by_id(self, role_id: str) -> Role | None:
        """Linear in roles, which number a handful on a dev server."""
        return next((r for r in self.roles.values() if r.role_id == role_id), None)

    def remove_secret(self, secret: SecretID) -> None:
        """Forget a secret ID and its accessor."""
        self.secret_ids.pop(secret.secret_id, None)
        self.accessors.pop(secret.accessor, None)

    def live_secret(self, secret_id: str, now: float) -> SecretID | None:
        """The secret ID if it exists and has not expired.

        An expired one is kept, as OpenBao keeps it: still listed, its lookups
        answer 204 and its destroy 204, until destroyed (or a tidy, not modelled).
        """
        secret = self.secret_ids.get(secret_id)
        if secret is None or is_expired(secret, now):
            return None
        return secret

    def renew_params(self, entry: TokenEntry) -> RenewParams:
        """What a login token's renewal uses: the role as it is now."""
        name = (entry.meta or {}).get("role_name", "")
        role = self.roles.get(name)
        if role is None:
            raise ApiError(500, f'role "{name}" does not exist during renewal')
        return RenewParams(
            backend_ttl=role.token_ttl,
            backend_max_ttl=role.token_max_ttl,
            period=role.token_period,
            explicit_max_ttl=role.token_explicit_max_ttl,
        )


def is_expired(secret: SecretID, now: float) -> bool:
    """Past its ``secret_id_ttl`` (0: never)."""
    return bool(secret.expiration_time) and secret.expiration_time <= now


def role_or_404(state: State, call: Call) -> Role:
    role = state.approle.roles.get(call.params["name"])
    if role is None:
        raise not_found()
    return role


def role_or_400(state: State, call: Call) -> Role:
    role = state.approle.roles.get(call.params["name"])
    if role is None:
        raise bad_request(f'role "{call.params["name"]}" does not exist')
    return role
