"""The Vault connection of a run, and the client bound to one token.

See the package docstring for the three jobs; this module holds the session
(``VaultConnection``, with its retry loop) and the token calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import hvac
import requests

from renewer.bounded_http import BoundedAnswers, bound
from renewer.config import VaultSettings
from renewer.core.backoff import retry_delay
from renewer.core.heal import MintRequest
from renewer.core.model import AuthGrant, MalformedResponse, TokenInfo
from renewer.core.secret import Secret
from renewer.errors import ConfigError, VaultError
from renewer.redact import register
from renewer.vault.approle import AppRoleCalls
from renewer.vault.engines import EngineCalls
from renewer.vault.errors import is_retryable, malformed, retry_after, translate
from renewer.vault.keepalive import KeepAlive
from renewer.vault.transport import (
    MAX_ANSWER_BYTES,
    RetryAfterAdapter,
    RetryPolicy,
    json_data,
    json_object,
)

T = TypeVar("T")


class VaultConnection:
    """One HTTP session to one Vault address, shared by every token's client in a run."""

    def __init__(self, settings: VaultSettings, retry: RetryPolicy, *, pool_size: int = 8) -> None:
        if not settings.addr:
            # A configuration problem (78), not a person-needed failure: the timer's
            # environment has no $VAULT_ADDR even when the shell that tested it did.
            raise ConfigError(
                "no Vault address: vault.addr is not set in the config and $VAULT_ADDR is "
                "empty (the systemd timer never sees your shell's $VAULT_ADDR)",
                hint="add `vault: {addr: https://vault.example.com:8200}` to the config",
            )
        self.settings = settings
        self.retry = retry
        session = requests.Session()
        session.trust_env = False  # explicit config wins over proxies/CA bundles in the env
        # hvac takes verify= from a session it is given, not from its own argument.
        session.verify = str(settings.ca_cert) if settings.ca_cert else True
        adapter = BoundedAnswers(
            max_bytes=MAX_ANSWER_BYTES,
            refuse=malformed,
            time_left=retry.remaining,  # the run's deadline, not a read timeout per chunk
            pool_connections=1,
            pool_maxsize=pool_size,
        )
        self._session = bound(session, adapter)
        self.keepalive = KeepAlive(settings)

    def close(self) -> None:
        self._session.close()
        self.keepalive.close()

    def __enter__(self) -> VaultConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def client(self, token: Secret | None) -> HvacVault:
        """A client acting with *token* (None: unauthenticated endpoints only)."""
        return HvacVault(self, token)

    def _hvac(self, token: Secret | None) -> hvac.Client:
        verify: str | bool = str(self.settings.ca_cert) if self.settings.ca_cert else True
        return hvac.Client(
            url=self.settings.addr,
            token=token.reveal() if token else "",
            verify=verify,
            timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            session=self._session,
            allow_redirects=False,
            adapter=RetryAfterAdapter,
        )

    def call(self, action: str, function: Callable[[], T], *, idempotent: bool = True) -> T:
        """Run *function* (request and parse) with retries on temporary failures.

        Parsing happens inside *function*, so a malformed answer (a proxy's
        HTML page, a truncated body, ``auth: null``) is retried and then
        reported like any other temporary failure. Every error is translated.
        """
        attempt = 0
        while True:
            try:
                return function()
            except Exception as exc:
                attempt += 1
                retryable = is_retryable(exc, idempotent=idempotent)
                delay = (
                    retry_delay(
                        attempt,
                        retry_after=retry_after(exc),
                        base=self.retry.base,
                        cap=self.retry.cap,
                        fraction=self.retry.rng.random(),
                        remaining=self.retry.remaining(),
                    )
                    if retryable and attempt < self.retry.attempts
                    else None
                )
                if delay is None:
                    error = translate(exc, action)
                    if retryable and attempt > 1:
                        error.message += f" (gave up after {attempt} attempts)"
                    raise error from None
                self.retry.sleep(delay)


class HvacVault(AppRoleCalls, EngineCalls):
    """A Vault client bound to one token. Make one per token; never share a token."""

    def lookup_self(self) -> TokenInfo:
        token = self._client.auth.token
        return self._call(
            "lookup-self",
            lambda: TokenInfo.from_lookup(json_data(token.lookup_self(), "lookup-self")),
        )

    def renew_self(self) -> AuthGrant:
        token = self._client.auth.token
        return self._call(
            "renew-self",
            lambda: AuthGrant.from_response(json_object(token.renew_self(), "renew-self")),
        )

    def create_orphan(self, request: MintRequest) -> AuthGrant:
        """``POST auth/token/create-orphan`` with the body the core planned."""
        body = request.as_body()
        body.pop("no_parent", None)  # implied by the endpoint
        action = "mint (create-orphan)"

        def create() -> AuthGrant:
            response = self._client.adapter.post("/v1/auth/token/create-orphan", json=body)
            return AuthGrant.from_response(json_object(response, action))

        grant = self._call(action, create, idempotent=False)
        register(grant.client_token.reveal())
        return grant

    def capabilities_self(self, paths: list[str]) -> dict[str, frozenset[str]]:
        """``POST sys/capabilities-self``: what this token may do on each path (read-only).

        The default policy grants it to every token; the answer is a list of
        capability names per path (``root``, ``deny``, or ``create read
        update delete list sudo patch``).
        """
        action = "capabilities-self"

        def ask() -> dict[str, frozenset[str]]:
            response = self._client.adapter.post("/v1/sys/capabilities-self", json={"paths": paths})
            data = json_data(response, action)
            if not isinstance(data, dict):
                raise MalformedResponse("no data object")
            answer: dict[str, frozenset[str]] = {}
            for path in paths:
                names = data.get(path)
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise MalformedResponse(f"no capability list for {path}")
                answer[path] = frozenset(names)
            return answer

        return self._call(action, ask)

    def lookup_accessor(self, accessor: str) -> TokenInfo | None:
        """The token behind *accessor*, or None when Vault no longer knows it."""
        keepalive = self._connection.keepalive

        def lookup() -> TokenInfo:
            answer = keepalive.post(
                "/v1/auth/token/lookup-accessor", {"accessor": accessor}, self._token
            )
            return TokenInfo.from_lookup(json_data(answer, "lookup-accessor"))

        try:
            return self._call("lookup-accessor", lookup)
        except VaultError as error:
            if error.status == 400 and "invalid accessor" in error.message:
                return None
            raise

    def revoke_accessor(self, accessor: str) -> bool:
        """Revoke the token behind *accessor* and its children; False if it was already gone."""
        token = self._client.auth.token
        try:
            response = self._call("revoke-accessor", lambda: token.revoke_accessor(accessor))
        except VaultError as error:
            if error.status == 400 and "invalid accessor" in error.message:
                return False
            raise
        if isinstance(response, dict):  # 200 + warning: "No token found with this accessor"
            return not response.get("warnings")
        return True

    def revoke_self(self) -> None:
        self._call("revoke-self", self._client.auth.token.revoke_self)

    def list_accessors(self) -> list[str]:
        """Every live accessor (needs ``list`` + ``sudo`` on auth/token/accessors)."""
        return self._list_keys("list accessors", self._client.auth.token.list_accessors)

    def health(self) -> dict[str, Any]:
        """``sys/health`` without raising on sealed/standby codes."""
        sys_api = self._client.sys

        def read() -> dict[str, Any]:
            response = sys_api.read_health_status(method="GET")
            if isinstance(response, requests.Response):
                response = response.json()
            return json_object(response, "health")

        return self._call("health", read)


@contextlib.contextmanager
def connect(
    settings: VaultSettings, retry: RetryPolicy, *, pool_size: int = 8
) -> Iterator[VaultConnection]:
    """A :class:`VaultConnection` closed at the end of the block."""
    connection = VaultConnection(settings, retry, pool_size=pool_size)
    try:
        yield connection
    finally:
        connection.close()
