"""Hosting: the dev server on waitress, in a background thread.

waitress parses HTTP (we never do), keeps connections alive, and sets
``TCP_NODELAY`` (we pass it explicitly: without it, keep-alive clients wait
~40 ms per request on Nagle's algorithm). Its own body cap is set above ours
so bodies between the two get Vault's JSON 413 from the app; only bodies
beyond twice the cap meet waitress's plain-text 413.

Hosting and stopping (connections, then workers, then the loop) live in
:mod:`renewer.devserver.hosting`, shared with the tests' fault proxy.
"""

from __future__ import annotations

import ipaddress
from types import TracebackType
from typing import Any

from renewer.devserver.app import VaultApp
from renewer.devserver.clock import Clock
from renewer.devserver.controls import Counters, Faults
from renewer.devserver.dev_api import DevAPI, tokens_by_display_name
from renewer.devserver.hosting import WaitressThread
from renewer.devserver.state import RateLimitMode, Settings, State
from renewer.devserver.tokens import TokenEntry, TokenType, new_accessor


def is_loopback(host: str) -> bool:
    """Whether *host* names only this machine (``localhost`` or a loopback IP)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def root_token_entry(token_id: str, now: float) -> TokenEntry:
    """The root token ``server -dev -dev-root-token-id=T`` leaves: no lease, never expires.

    ``-dev`` generates a root token, creates the one with the given id through the
    token store with it, and revokes the first: the survivor's ``path`` is
    ``auth/token/create`` and its ``display_name`` ``token`` (seen on OpenBao 2.7.2;
    an ``operator init`` root token says ``auth/token/root`` and ``root``).
    """
    return TokenEntry(
        id=token_id,
        accessor=new_accessor(),
        policies=("root",),
        path="auth/token/create",
        meta=None,
        display_name="token",
        num_uses=0,
        creation_time=float(int(now)),
        creation_ttl=0,
        explicit_max_ttl=0,
        period=0,
        parent="",
        type=TokenType.SERVICE,
        lease=None,
    )


class DevServer:
    """An in-memory, Vault-API-compatible server for tests and demos.

    ``with DevServer(root_token="root", dev_controls=True) as srv:`` starts it
    on 127.0.0.1 and a free port; ``srv.addr`` is its base URL.
    """

    def __init__(
        self,
        *,
        root_token: str = "root",  # noqa: S107 - `vault server -dev`'s well-known default
        host: str = "127.0.0.1",
        port: int = 0,
        dev_controls: bool = False,
        legacy_invalid_token: bool = False,
        max_request_size: int = 32 * 1024 * 1024,
        threads: int = 8,
        clock: Clock | None = None,
        allow_remote: bool = False,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise ValueError(f"refusing to listen on non-loopback address {host!r}")
        if not root_token:
            raise ValueError("the root token must not be empty")
        self.clock = clock or Clock()
        self.faults = Faults()
        self._counters = Counters()
        settings = Settings(
            legacy_invalid_token=legacy_invalid_token, max_request_size=max_request_size
        )
        self.state = State(clock=self.clock, settings=settings)
        self.state.tokens.add(root_token_entry(root_token, self.clock.now()))
        self._root_token = root_token
        dev_api = DevAPI(self.state, faults=self.faults, counters=self._counters)
        self.app = VaultApp(
            self.state,
            faults=self.faults,
            counters=self._counters,
            dev_api=dev_api if dev_controls else None,
        )
        self.dev_controls = dev_controls
        self._host = host
        self._host_thread = WaitressThread(
            self.app,
            name="renewer-devserver",
            host=host,
            port=port,
            threads=threads,
            ident="",  # Vault (Go net/http) sends no Server header
            max_request_body_size=2 * self.state.settings.max_request_size,
            connection_limit=1000,
            channel_timeout=60,
            clear_untrusted_proxy_headers=True,
        )

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> DevServer:
        """Bind and serve in a background thread; returns self."""
        if self._host_thread.server is not None:
            raise RuntimeError("dev server already started")
        self._host_thread.start()
        return self

    def stop(self) -> None:
        """Close every connection, join the worker threads, end the loop (see hosting)."""
        self._host_thread.stop()

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        return self._host_thread.port

    @property
    def addr(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8200`` (IPv6 hosts bracketed)."""
        host = self._host if ":" not in self._host else f"[{self._host}]"
        return f"http://{host}:{self.port}"

    @property
    def root_token(self) -> str:
        """The root token given at construction."""
        return self._root_token

    # -- controls ----------------------------------------------------------

    def counters(self, *, with_method: bool = False) -> dict[str, int]:
        """Requests per path after ``/v1/`` (or per ``"METHOD path"``)."""
        return self._counters.snapshot(with_method=with_method)

    def reset_counters(self) -> None:
        """Start counting from zero."""
        self._counters.reset()

    def seal(self) -> None:
        """Answer 503 ``Vault is sealed`` (``sys/health``: 503 with its JSON)."""
        self.state.modes.sealed = True

    def unseal(self) -> None:
        """Leave sealed mode."""
        self.state.modes.sealed = False

    def standby(self, active_addr: str) -> None:
        """Act as a standby: 307 to *active_addr*; ``sys/health`` answers 429."""
        self.state.modes.standby_redirect = active_addr.rstrip("/")

    def active(self) -> None:
        """Leave standby mode."""
        self.state.modes.standby_redirect = None

    def ratelimit(self, *, retry_after: int = 1, limit: int = 10, headers: bool = True) -> None:
        """Answer every request 429 as a rate-limit quota would."""
        self.state.modes.ratelimit = RateLimitMode(
            retry_after=retry_after, limit=limit, headers=headers
        )

    def clear_ratelimit(self) -> None:
        """Leave rate-limit mode."""
        self.state.modes.ratelimit = None

    def tokens_by_display_name(self, display_name: str | None = None) -> list[dict[str, Any]]:
        """Live tokens (all, or with this display name), without their ids."""
        return tokens_by_display_name(self.state, display_name)

    def live_token_count(self) -> int:
        """How many tokens are alive now (expired ones reaped first)."""
        with self.state.lock:
            self.state.tokens.reap(self.clock.now())
            return len(self.state.tokens)
