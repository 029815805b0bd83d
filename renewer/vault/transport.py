"""What every Vault call shares: the retry policy, hvac's adapter, answer parsing, and
the base of the clients bound to one token."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import hvac.adapters
import hvac.exceptions
import requests

from renewer.core.model import MalformedResponse
from renewer.core.secret import Secret
from renewer.errors import VaultError, VaultUnavailable
from renewer.redact import register

if TYPE_CHECKING:
    from renewer.vault.client import VaultConnection

T = TypeVar("T")

MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a LIST of ~1M accessors; run.sweep_max_accessors is 200k


@dataclass
class RetryPolicy:
    """Bounded retries with full jitter inside one deadline shared by the whole run."""

    deadline: float  # time.monotonic() value after which nothing is retried
    attempts: int = 5
    base: float = 0.5
    cap: float = 8.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def starting_now(cls, budget: float, **kwargs: Any) -> RetryPolicy:
        clock = kwargs.get("clock", time.monotonic)
        return cls(deadline=clock() + budget, **kwargs)

    def remaining(self) -> float:
        return self.deadline - self.clock()


class RetryAfterAdapter(hvac.adapters.JSONAdapter):  # type: ignore[misc]
    """hvac's JSON adapter, plus ``Retry-After`` kept on the exception it raises."""

    def _raise_for_error(self, method: str, url: str, response: requests.Response) -> None:
        try:
            super()._raise_for_error(method, url, response)
        except hvac.exceptions.VaultError as exc:
            exc.retry_after = response.headers.get("Retry-After")
            exc.status_code = response.status_code
            exc.content_type = response.headers.get("Content-Type", "")
            raise


def decode_json(data: bytes, content_type: str | None) -> Any:
    """The JSON body, or None when there is none or it is not JSON."""
    if not data or content_type != "application/json":
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def json_object(response: object, action: str) -> dict[str, Any]:
    """The JSON object of a 200 answer; hvac hands back the raw response otherwise."""
    if isinstance(response, requests.Response):
        if 300 <= response.status_code < 400:
            location = response.headers.get("Location", "?")
            raise VaultUnavailable(
                f"{action}: Vault answered with a redirect to {location}; renewer does not "
                "follow redirects (the token would be sent along)",
                hint="point vault.addr at the active node or the load balancer",
            )
        raise MalformedResponse(f"HTTP {response.status_code} without a JSON object")
    if not isinstance(response, dict):
        raise MalformedResponse("expected a JSON object")
    return response


def json_data(response: object, action: str) -> Any:
    return json_object(response, action).get("data")


class BoundCalls:
    """A group of Vault calls made with one token, through the run's connection."""

    def __init__(self, connection: VaultConnection, token: Secret | None) -> None:
        self._connection = connection
        self._client = connection._hvac(token)
        self._token = token or Secret("")
        if token:
            register(token.reveal())

    def _call(self, action: str, function: Callable[[], T], *, idempotent: bool = True) -> T:
        return self._connection.call(action, function, idempotent=idempotent)

    def _list_keys(self, action: str, fetch: Callable[[], Any]) -> list[str]:
        """A LIST endpoint's ``keys``; Vault answers an empty list with 404."""

        def listing() -> list[str]:
            keys = (json_data(fetch(), action) or {}).get("keys")
            if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
                raise MalformedResponse("no list of keys")
            return keys

        try:
            return self._call(action, listing)
        except VaultError as error:
            if error.status == 404:
                return []
            raise
