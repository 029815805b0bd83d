"""HTTP for primitives: bounded retries with full jitter inside a deadline, then exit 75.

A token endpoint or API that answers 5xx or 429, times out, or refuses the
connection is retried a few times; when the attempts or the deadline run
out, the failure becomes ``ServiceUnavailable`` (temporary, exit 75: the next
timer run tries again). The clock, the sleep and the randomness are
injected, so tests run the whole retry schedule without waiting.

Messages never include a URL's query string or a request body, where an
injected secret may sit; they name the action (``notion-prod: test GET
/users/me``) and the kind of failure.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import requests

from renewer.bounded_http import service_session
from renewer.core.backoff import retry_delay
from renewer.errors import ServiceUnavailable

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one call before calling it temporary."""

    attempts: int = 4
    base: float = 0.5  # seconds; full jitter below base × 2^n
    cap: float = 8.0
    deadline: float = 30.0  # for all attempts of one call, waits included
    timeout: float = 10.0  # per request: connect and each read


class TransientFailure(Exception):
    """An answer that is worth retrying (5xx, 429, ``temporarily_unavailable``)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Http:
    """A requests session plus the retry policy and the injected clock, sleep and randomness."""

    session: requests.Session = field(default_factory=service_session)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def retrying(self, action: Callable[[], T], *, what: str) -> T:
        """Call *action* until it does not fail transiently, within the policy."""
        started = self.now()
        attempt = 0
        while True:
            try:
                return action()
            except (requests.ConnectionError, requests.Timeout, TransientFailure) as exc:
                reason = describe(exc, self.policy.timeout)
                retry_after = exc.retry_after if isinstance(exc, TransientFailure) else None
            attempt += 1
            delay = retry_delay(
                attempt,
                retry_after=retry_after,
                base=self.policy.base,
                cap=self.policy.cap,
                fraction=self.rng.random(),
                remaining=self.policy.deadline - (self.now() - started),
            )
            if attempt >= self.policy.attempts or delay is None:
                raise ServiceUnavailable(
                    f"{what}: {reason}; gave up after {attempt} attempt(s)",
                    hint="the service or the network is down or overloaded; the next run "
                    "tries again (check now with `renewer creds test NAME`)",
                )
            self.sleep(delay)

    def send(self, request: requests.PreparedRequest, *, what: str) -> requests.Response:
        """Send *request* (no redirects followed) with retries; 5xx and 429 are transient."""

        def once() -> requests.Response:
            response = self.session.send(
                request, timeout=self.policy.timeout, allow_redirects=False
            )
            if response.status_code >= 500 or response.status_code == 429:
                retry_after = _seconds(response.headers.get("Retry-After"))
                response.close()
                raise TransientFailure(f"HTTP {response.status_code}", retry_after=retry_after)
            return response

        return self.retrying(once, what=what)


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the HTTP-date form is ignored)."""
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def describe(exc: BaseException, timeout: float) -> str:
    """A safe one-phrase reason: never the exception text, which may hold the URL."""
    if isinstance(exc, TransientFailure):
        return str(exc)
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect"
    return type(exc).__name__
