"""Everything the dev server remembers, in one place, behind one lock.

Vault keeps its state in storage behind a barrier; here it is dictionaries in
memory. One re-entrant lock serialises every request's access: the server is
for one developer's tests, and a single lock keeps each Vault operation atomic
(create + index, revoke + cascade) without reasoning about interleavings.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from renewer.devserver.approle_backend import AppRoleBackend
from renewer.devserver.clock import Clock
from renewer.devserver.kv_store import KVStore
from renewer.devserver.pki import PkiBackend
from renewer.devserver.policy import Policy, PolicyError, parse_policy
from renewer.devserver.policy_acl import ACL
from renewer.devserver.policy_builtin import DEFAULT_POLICY_TEXT, RESPONSE_WRAPPING_POLICY_TEXT
from renewer.devserver.protocol import bad_request
from renewer.devserver.token_store import TokenStore

_IMMUTABLE = ("root", "response-wrapping", "control-group")
NON_ASSIGNABLE = ("response-wrapping", "control-group")
VERSION = "1.17.0+renewer.devserver"
"""What ``sys/health`` reports: Vault's API level this server follows, marked as ours."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Behaviour switches fixed at construction.

    *legacy_invalid_token*: answer a bad token with the plain pre-1.17
    ``permission denied`` instead of the 1.17+ two-error text.
    *max_request_size*: bodies above it get Vault's 413.
    """

    legacy_invalid_token: bool = False
    max_request_size: int = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RateLimitMode:
    """Answer every request 429 as a Vault rate-limit quota would.

    *headers* mirrors ``enable_rate_limit_response_headers``: without it Vault
    sends no ``Retry-After`` / ``X-Ratelimit-*`` headers at all.
    """

    retry_after: int = 1
    limit: int = 10
    headers: bool = True


@dataclass(slots=True)
class Modes:
    """Server-wide conditions set by the dev controls (mutable, under the state lock).

    *standby_redirect* is the active node's address: when set, this server
    behaves as a standby that cannot forward and redirects instead.
    """

    sealed: bool = False
    standby_redirect: str | None = None
    ratelimit: RateLimitMode | None = None


class PolicyStore:
    """Named ACL policies, with ``root``, ``default`` and ``response-wrapping`` built in."""

    def __init__(self) -> None:
        self._policies: dict[str, Policy] = {
            "default": parse_policy("default", DEFAULT_POLICY_TEXT),
            "response-wrapping": parse_policy("response-wrapping", RESPONSE_WRAPPING_POLICY_TEXT),
        }
        self._acls: dict[tuple[str, ...], ACL] = {}

    def get(self, name: str) -> Policy | None:
        """A policy by (case-insensitive) name; ``root`` exists with no text."""
        name = name.strip().lower()
        if name == "root":
            return Policy(name="root", raw="", rules=())
        return self._policies.get(name)

    def exists(self, name: str) -> bool:
        """Whether create should stay silent about this policy name."""
        return self.get(name) is not None

    def put(self, name: str, raw: str) -> None:
        """Create or replace a policy; Vault's 400s for immutable names and bad text."""
        name = name.strip().lower()
        if name in _IMMUTABLE:
            raise bad_request(f'cannot update "{name}" policy')
        if not raw.strip():
            raise bad_request("'policy' parameter not supplied or empty")
        try:
            self._policies[name] = parse_policy(name, raw)
        except PolicyError as exc:
            raise bad_request(str(exc)) from None
        self._acls.clear()

    def delete(self, name: str) -> None:
        """Delete a policy; deleting one that does not exist is fine, as in Vault."""
        name = name.strip().lower()
        if name in _IMMUTABLE:
            raise bad_request(f'cannot delete "{name}" policy')
        if name == "default":
            raise bad_request("cannot delete default policy")
        self._policies.pop(name, None)
        self._acls.clear()

    def names(self) -> list[str]:
        """What Vault lists: stored names sorted, ``response-wrapping`` hidden, ``root`` last."""
        return [*sorted(n for n in self._policies if n not in NON_ASSIGNABLE), "root"]

    def acl(self, policies: tuple[str, ...]) -> ACL:
        """The ACL for a token's policy set, built once per set until a policy changes."""
        cached = self._acls.get(policies)
        if cached is None:
            found = [p for name in policies if (p := self._policies.get(name)) is not None]
            cached = ACL(found, is_root="root" in policies)
            self._acls[policies] = cached
        return cached


class State:
    """The server's memory: clock, tokens, policies, secrets engines, and the lock."""

    def __init__(self, *, clock: Clock, settings: Settings) -> None:
        self.clock = clock
        self.settings = settings
        self.lock = threading.RLock()
        self.modes = Modes()
        self.tokens = TokenStore()
        self.policies = PolicyStore()
        self.kv = KVStore()
        self.approle = AppRoleBackend()
        self.pki = PkiBackend(now=clock.now())
        self.tokens.renew_hooks["auth/approle/login"] = self.approle.renew_params
