"""The only module that imports hvac. It returns renewer values, never hvac's.

Three jobs, all at the edge:

* **Explicit settings.** hvac falls back to ``VAULT_ADDR``, ``VAULT_TOKEN``,
  ``~/.vault-token`` and an import-time ``VAULT_CACERT``: the very state this
  program doubts. Every client here gets its address, token, CA bundle and
  timeouts passed in, and the HTTP session ignores the environment.
* **One session per Vault address per run**, shared by every token's client
  (connection reuse; a sweep's worker threads share its pool).
* **Exceptions translated once**: 403 and the 400s that are denials →
  :class:`VaultDenied`; an invalid caller token → :class:`ReauthRequired`;
  connection errors, timeouts, 5xx, 429, redirects and malformed 200s →
  :class:`VaultUnavailable` after bounded retries with full jitter inside the
  run's deadline (``Retry-After`` honoured); any other 4xx →
  :class:`VaultError`, never retried.

Redirects are not followed: hvac would resend ``X-Vault-Token`` to whatever
host a redirect names. A standby's 307 becomes a clear "point vault.addr at
the active node" error.

Answers are read by renewer, not by requests: at most ``MAX_ANSWER_BYTES``
(a declared larger length is refused unread), never decompressed (renewer
asks for ``identity``; a gzip bomb is refused), and never past the run's
deadline (a read timeout bounds each read, not a body that trickles in one
byte at a time).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import hvac
import hvac.adapters
import hvac.exceptions
import hvac.utils
import requests
import urllib3.exceptions

from renewer.bounded_http import BoundedAnswers, bound
from renewer.config import Config, VaultSettings
from renewer.core.approle import SecretIdGrant, SecretIdInfo
from renewer.core.backoff import retry_delay
from renewer.core.certs import IssuedCertificate
from renewer.core.heal import MintRequest
from renewer.core.model import AuthGrant, MalformedResponse, TokenInfo
from renewer.core.secret import Secret
from renewer.errors import (
    ReauthRequired,
    RenewerError,
    VaultDenied,
    VaultError,
    VaultUnavailable,
)
from renewer.redact import register
from renewer.secretstore.vault_kv import CasMismatch

T = TypeVar("T")

MAX_ANSWER_BYTES = 32 * 1024 * 1024  # a LIST of ~1M accessors; run.sweep_max_accessors is 200k

_DENIAL_MARKERS = (
    "privileges required",
    "must be subset of parent",
    "cannot assign policy",
    "restricted use token cannot generate child tokens",
    "batch tokens cannot create more tokens",
)
_INVALID_TOKEN_MARKERS = ("invalid token", "bad token")
_SELF_ACTIONS = frozenset({"lookup-self", "renew-self"})
_UNAVAILABLE = (
    hvac.exceptions.VaultDown,
    hvac.exceptions.BadGateway,
    hvac.exceptions.InternalServerError,
    hvac.exceptions.RateLimitExceeded,
    hvac.exceptions.VaultNotInitialized,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.JSONDecodeError,
    MalformedResponse,
)


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


class _Adapter(hvac.adapters.JSONAdapter):  # type: ignore[misc]
    """hvac's JSON adapter, plus ``Retry-After`` kept on the exception it raises."""

    def _raise_for_error(self, method: str, url: str, response: requests.Response) -> None:
        try:
            super()._raise_for_error(method, url, response)
        except hvac.exceptions.VaultError as exc:
            exc.retry_after = response.headers.get("Retry-After")
            exc.status_code = response.status_code
            raise


_MULTIERROR = re.compile(r"^\d+ errors? occurred:\s*")


def _plain(error: str) -> str:
    """Vault's multierror text (``1 error occurred:\n\t* permission denied\n\n``) → one line."""
    text = _MULTIERROR.sub("", error.strip())
    items = [item.strip() for item in text.split("* ") if item.strip()]
    return "; ".join(" ".join(item.split()) for item in items) if items else " ".join(text.split())


def _first_error(exc: hvac.exceptions.VaultError) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors:
        return "; ".join(_plain(str(error)) for error in errors)
    text = str(getattr(exc, "text", "") or "").strip()
    return " ".join(text[:200].split()) if text else type(exc).__name__


def _retry_after(exc: BaseException) -> float | None:
    value = getattr(exc, "retry_after", None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate(exc: BaseException, action: str) -> RenewerError:
    """One hvac/requests failure → the renewer error it means."""
    if isinstance(exc, RenewerError):
        return exc
    if isinstance(exc, MalformedResponse):
        return VaultUnavailable(f"{action}: Vault's answer is malformed ({exc})")
    if isinstance(exc, requests.exceptions.SSLError):
        return VaultError(
            f"{action}: TLS with Vault failed ({_tls_reason(exc)}); nothing was sent",
            hint="set vault.ca_cert (or $VAULT_CACERT) to the CA that signed Vault's "
            "certificate; check vault.addr's host name",
        )
    if isinstance(exc, requests.Timeout):
        return VaultUnavailable(f"{action}: Vault did not answer in time")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return VaultUnavailable(f"{action}: cannot reach Vault ({type(exc).__name__})")
    if isinstance(exc, requests.JSONDecodeError):
        return VaultUnavailable(f"{action}: Vault's answer is not JSON (a proxy page?)")
    if not isinstance(exc, hvac.exceptions.VaultError):
        return VaultError(f"{action}: {type(exc).__name__}")
    detail = _first_error(exc)
    status = getattr(exc, "status_code", None)
    if isinstance(exc, hvac.exceptions.Forbidden):
        # Every valid token may read its own lookup-self (the default policy);
        # older Vaults and OpenBao say only "permission denied" for a dead token.
        if action in _SELF_ACTIONS or any(marker in detail for marker in _INVALID_TOKEN_MARKERS):
            return ReauthRequired(
                f"{action}: the token is not valid (expired or revoked): {detail}"
            )
        return VaultDenied(f"{action}: permission denied: {detail}", status=403)
    if isinstance(exc, hvac.exceptions.InvalidRequest) and any(
        m in detail for m in _DENIAL_MARKERS
    ):
        return VaultDenied(f"{action}: {detail}", status=400)
    if isinstance(exc, hvac.exceptions.VaultDown):
        return VaultUnavailable(f"{action}: Vault is sealed or unavailable: {detail}")
    if isinstance(exc, _UNAVAILABLE):
        return VaultUnavailable(f"{action}: Vault answered {status or ''} {detail}".rstrip())
    return VaultError(f"{action}: {detail}", status=status)


def _tls_reason(exc: BaseException) -> str:
    text = str(exc)
    for reason in ("CERTIFICATE_VERIFY_FAILED", "hostname mismatch", "WRONG_VERSION_NUMBER"):
        if reason in text:
            return reason.replace("_", " ").lower()
    return "handshake failed"


def _never_sent(exc: BaseException) -> bool:
    """True when the request surely never reached Vault: no connection was made.

    A connection reset or a closed connection *during* the exchange is not
    that: Vault (or a proxy in front of it) may have processed the request.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.ReadTimeout):
        return False
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the cause
    return isinstance(
        cause, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


def _is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    if not isinstance(exc, _UNAVAILABLE) or isinstance(exc, requests.exceptions.SSLError):
        return False
    if idempotent:
        return True
    # A request that may have been processed (read timeout, a reset mid-exchange,
    # a 500 after the fact) must not be repeated when it creates something: a
    # second mint would leave the first one unrecorded. Only "surely not processed".
    return _never_sent(exc) or isinstance(
        exc, hvac.exceptions.VaultDown | hvac.exceptions.RateLimitExceeded
    )


def _malformed(reason: str, host: str) -> MalformedResponse:
    return MalformedResponse(reason)


class _KeepAlive:
    """Thread-local kept-alive ``http.client`` connections for the one hot loop.

    A full sweep looks up every accessor in Vault, one request each. Through
    hvac and requests a call costs ~1 ms of client CPU; on a kept-alive
    ``http.client`` connection ~0.15 ms, which is what lets a scan approach the
    server's own rate. Only that lookup goes this way. Failures are raised as
    hvac's and requests' own exceptions (``hvac.utils.raise_for_error``), so
    retries, backoff and translation are exactly those of every other call.
    """

    def __init__(self, settings: VaultSettings) -> None:
        parts = urlsplit(settings.addr)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._base = parts.path.rstrip("/")
        self._timeout = max(settings.connect_timeout, settings.read_timeout)
        self._context = (
            ssl.create_default_context(cafile=str(settings.ca_cert) if settings.ca_cert else None)
            if self._https
            else None
        )
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []  # every thread's, to close them all
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            if self._https:
                connection = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout, context=self._context
                )
            else:
                connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self._timeout
                )
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
            with self._lock:
                if connection in self._opened:
                    self._opened.remove(connection)

    def post(self, path: str, body: dict[str, Any], token: Secret) -> Any:
        """POST *body* to *path* with *token*; the decoded JSON of a 200, or raise."""
        url = f"{self._base}{path}"
        headers = {
            "X-Vault-Token": token.reveal(),
            "X-Vault-Request": "true",
            "Content-Type": "application/json",
        }
        try:
            connection = self._connection()
            connection.request("POST", url, body=json.dumps(body).encode(), headers=headers)
            response = connection.getresponse()
            data = response.read(MAX_ANSWER_BYTES + 1)
        except TimeoutError:
            self._drop()
            raise requests.ReadTimeout("no answer in time") from None
        except ssl.SSLError as exc:
            self._drop()
            raise requests.exceptions.SSLError(str(exc)) from None
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            raise requests.ConnectionError(type(exc).__name__) from None
        if len(data) > MAX_ANSWER_BYTES:
            self._drop()  # the rest of the answer is still on the wire
            raise MalformedResponse(f"the answer is larger than {MAX_ANSWER_BYTES >> 20} MiB")
        if response.will_close:
            self._drop()
        if 300 <= response.status < 400:
            raise VaultUnavailable(
                f"Vault answered with a redirect to {response.getheader('Location', '?')}; "
                "renewer does not follow redirects (the token would be sent along)",
                hint="point vault.addr at the active node or the load balancer",
            )
        document = _decode(data, response.getheader("Content-Type"))
        if response.status >= 400:
            errors = document.get("errors") if isinstance(document, dict) else None
            try:
                hvac.utils.raise_for_error(
                    "POST",
                    url,
                    response.status,
                    None if errors else data.decode("utf-8", "replace")[:200],
                    errors=errors,
                    text=data.decode("utf-8", "replace"),
                    json=document if isinstance(document, dict) else None,
                )
            except hvac.exceptions.VaultError as exc:
                exc.retry_after = response.getheader("Retry-After")
                exc.status_code = response.status
                raise
        return document


def _decode(data: bytes, content_type: str | None) -> Any:
    """The JSON body, or None when there is none or it is not JSON."""
    if not data or content_type != "application/json":
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


class VaultConnection:
    """One HTTP session to one Vault address, shared by every token's client in a run."""

    def __init__(self, settings: VaultSettings, retry: RetryPolicy, *, pool_size: int = 8) -> None:
        if not settings.addr:
            raise VaultError(
                "no Vault address: set vault.addr in the config or VAULT_ADDR",
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
            refuse=_malformed,
            time_left=retry.remaining,  # the run's deadline, not a read timeout per chunk
            pool_connections=1,
            pool_maxsize=pool_size,
        )
        self._session = bound(session, adapter)
        self.keepalive = _KeepAlive(settings)

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
            adapter=_Adapter,
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
                retryable = _is_retryable(exc, idempotent=idempotent)
                delay = (
                    retry_delay(
                        attempt,
                        retry_after=_retry_after(exc),
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


def _json(response: object, action: str) -> dict[str, Any]:
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


def _data(response: object, action: str) -> Any:
    return _json(response, action).get("data")


class HvacVault:
    """A Vault client bound to one token. Make one per token; never share a token."""

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
            keys = (_data(fetch(), action) or {}).get("keys")
            if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
                raise MalformedResponse("no list of keys")
            return keys

        try:
            return self._call(action, listing)
        except VaultError as error:
            if error.status == 404:
                return []
            raise

    def lookup_self(self) -> TokenInfo:
        token = self._client.auth.token
        return self._call(
            "lookup-self", lambda: TokenInfo.from_lookup(_data(token.lookup_self(), "lookup-self"))
        )

    def renew_self(self) -> AuthGrant:
        token = self._client.auth.token
        return self._call(
            "renew-self", lambda: AuthGrant.from_response(_json(token.renew_self(), "renew-self"))
        )

    def create_orphan(self, request: MintRequest) -> AuthGrant:
        """``POST auth/token/create-orphan`` with the body the core planned."""
        body = request.as_body()
        body.pop("no_parent", None)  # implied by the endpoint
        action = "mint (create-orphan)"

        def create() -> AuthGrant:
            response = self._client.adapter.post("/v1/auth/token/create-orphan", json=body)
            return AuthGrant.from_response(_json(response, action))

        grant = self._call(action, create, idempotent=False)
        register(grant.client_token.reveal())
        return grant

    def lookup_accessor(self, accessor: str) -> TokenInfo | None:
        """The token behind *accessor*, or None when Vault no longer knows it."""
        keepalive = self._connection.keepalive

        def lookup() -> TokenInfo:
            answer = keepalive.post(
                "/v1/auth/token/lookup-accessor", {"accessor": accessor}, self._token
            )
            return TokenInfo.from_lookup(_data(answer, "lookup-accessor"))

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

    def kv_read(self, mount: str, path: str) -> tuple[dict[str, str], int] | None:
        """KV v2: the latest version's data and number, or None if there is none.

        A soft-deleted latest version reads as ``({}, version)``: the next
        check-and-set write must name that version to follow it.
        """
        kv = self._client.secrets.kv.v2

        def read() -> tuple[dict[str, str], int]:
            response = kv.read_secret_version(
                path=path, mount_point=mount, raise_on_deleted_version=False
            )
            data = _data(response, "kv read") or {}
            values = data.get("data") or {}
            version = (data.get("metadata") or {}).get("version")
            if not isinstance(values, dict) or not isinstance(version, int):
                raise MalformedResponse("no data/version")
            return {str(k): str(v) for k, v in values.items()}, version

        try:
            return self._call("kv read", read)
        except VaultError as error:
            if error.status == 404:
                return None
            raise

    def kv_write(self, mount: str, path: str, data: dict[str, str], *, cas: int) -> int:
        """KV v2 check-and-set write; returns the new version."""
        kv = self._client.secrets.kv.v2

        def write() -> int:
            response = kv.create_or_update_secret(
                path=path, secret=data, cas=cas, mount_point=mount
            )
            version = (_data(response, "kv write") or {}).get("version")
            if not isinstance(version, int):
                raise MalformedResponse("no version")
            return version

        try:
            return self._call("kv write", write, idempotent=False)
        except VaultError as error:
            if error.status == 400 and "check-and-set" in error.message:
                raise CasMismatch(error.message) from None
            raise

    # --- AppRole (auth/<mount>/...): the secret-id rotation's calls ---------

    def approle_role_id(self, mount: str, role: str) -> str:
        """``GET auth/<mount>/role/<role>/role-id``."""

        def read() -> str:
            response = self._client.adapter.get(f"/v1/auth/{mount}/role/{role}/role-id")
            role_id = (_data(response, "read role-id") or {}).get("role_id")
            if not isinstance(role_id, str) or not role_id:
                raise MalformedResponse("no role_id")
            return role_id

        return self._call("read role-id", read)

    def approle_generate_secret_id(
        self, mount: str, role: str, *, metadata: dict[str, str]
    ) -> SecretIdGrant:
        """``POST auth/<mount>/role/<role>/secret-id``; never retried once it may have worked."""
        body = {"metadata": json.dumps(metadata, sort_keys=True)}

        def generate() -> SecretIdGrant:
            response = self._client.adapter.post(
                f"/v1/auth/{mount}/role/{role}/secret-id", json=body
            )
            return SecretIdGrant.from_data(_data(response, "generate secret-id"))

        grant = self._call("generate secret-id", generate, idempotent=False)
        register(grant.secret_id.reveal())
        return grant

    def approle_lookup_secret_id(
        self, mount: str, role: str, secret_id: Secret
    ) -> SecretIdInfo | None:
        """``POST .../secret-id/lookup``: the secret-id's accessor, or None if Vault has none."""

        def lookup() -> SecretIdInfo | None:
            response = self._client.adapter.post(
                f"/v1/auth/{mount}/role/{role}/secret-id/lookup",
                json={"secret_id": secret_id.reveal()},
            )
            if isinstance(response, requests.Response) and response.status_code == 204:
                return None  # unknown, expired or destroyed
            return SecretIdInfo.from_data(_data(response, "lookup secret-id"))

        return self._call("lookup secret-id", lookup)

    def approle_lookup_accessor(self, mount: str, role: str, accessor: str) -> SecretIdInfo | None:
        """``POST .../secret-id-accessor/lookup``; None when the accessor is unknown."""

        def lookup() -> SecretIdInfo | None:
            try:
                response = self._client.adapter.post(
                    f"/v1/auth/{mount}/role/{role}/secret-id-accessor/lookup",
                    json={"secret_id_accessor": accessor},
                )
            except hvac.exceptions.VaultError as exc:
                if _unknown_secret_id_accessor(exc):
                    return None
                raise
            if isinstance(response, requests.Response) and response.status_code == 204:
                return None
            return SecretIdInfo.from_data(_data(response, "lookup secret-id accessor"))

        return self._call("lookup secret-id accessor", lookup)

    def approle_destroy_accessor(self, mount: str, role: str, accessor: str) -> bool:
        """``POST .../secret-id-accessor/destroy``; False when it was already gone.

        Vault answers an unknown accessor with a 500 (a plain Go error in the
        handler; 404 on some versions), so that one answer is recognised here,
        before the retry loop would take it for an outage.
        """

        def destroy() -> bool:
            try:
                self._client.adapter.post(
                    f"/v1/auth/{mount}/role/{role}/secret-id-accessor/destroy",
                    json={"secret_id_accessor": accessor},
                )
            except hvac.exceptions.VaultError as exc:
                if _unknown_secret_id_accessor(exc):
                    return False
                raise
            return True

        return self._connection.call("destroy secret-id", destroy)

    def approle_list_accessors(self, mount: str, role: str) -> list[str]:
        """``LIST .../secret-id``: accessors of the role's live secret-ids."""

        path = f"/v1/auth/{mount}/role/{role}/secret-id"
        return self._list_keys("list secret-ids", lambda: self._client.adapter.list(path))

    def approle_login(self, mount: str, role_id: str, secret_id: Secret) -> AuthGrant:
        """``POST auth/<mount>/login`` (unauthenticated); the token is registered as a secret."""

        def login() -> AuthGrant:
            response = self._client.adapter.post(
                f"/v1/auth/{mount}/login",
                json={"role_id": role_id, "secret_id": secret_id.reveal()},
            )
            return AuthGrant.from_response(_json(response, "approle login"))

        grant = self._call("approle login", login, idempotent=False)
        register(grant.client_token.reveal())
        return grant

    def pki_issue(
        self,
        mount: str,
        role: str,
        *,
        common_name: str,
        ttl: int | None = None,
        alt_names: tuple[str, ...] = (),
        ip_sans: tuple[str, ...] = (),
    ) -> IssuedCertificate:
        """``POST <mount>/issue/<role>``: a new private key and its certificate.

        Not retried once it may have been processed (each attempt would issue
        another certificate); the private key is registered for redaction
        before anything else sees it.
        """
        pki = self._client.secrets.pki
        params: dict[str, Any] = {}
        if ttl:
            params["ttl"] = f"{ttl}s"
        if alt_names:
            params["alt_names"] = ",".join(alt_names)
        if ip_sans:
            params["ip_sans"] = ",".join(ip_sans)
        action = f"pki issue ({mount}/issue/{role})"

        def issue() -> IssuedCertificate:
            response = pki.generate_certificate(
                name=role,
                common_name=common_name,
                extra_params=params or None,
                mount_point=mount,
            )
            answer = _json(response, action)
            return IssuedCertificate.from_data(answer.get("data"), answer.get("warnings"))

        issued = self._call(action, issue, idempotent=False)
        register(issued.private_key.reveal())
        return issued

    def health(self) -> dict[str, Any]:
        """``sys/health`` without raising on sealed/standby codes."""
        sys_api = self._client.sys

        def read() -> dict[str, Any]:
            response = sys_api.read_health_status(method="GET")
            if isinstance(response, requests.Response):
                response = response.json()
            return _json(response, "health")

        return self._call("health", read)


class KVv2:
    """A KV v2 mount reached with one token: the secret store's ``KVBackend`` on hvac."""

    def __init__(self, client: HvacVault, mount: str) -> None:
        self._client = client
        self._mount = mount

    def read(self, path: str) -> tuple[dict[str, str], int] | None:
        return self._client.kv_read(self._mount, path)

    def write(self, path: str, data: dict[str, str], *, cas: int) -> int:
        return self._client.kv_write(self._mount, path, data, cas=cas)


def kv_backend(config: Config, *, mount: str, token_sink: str) -> KVv2:
    """KV v2 on *mount* with the token in *token_sink*'s file (renewed earlier in the run)."""
    from renewer.tokenfile import read_token

    sink = config.token(token_sink)
    token = read_token(sink.path, sink=sink.name).token
    connection = VaultConnection(config.vault, RetryPolicy.starting_now(config.run.deadline))
    return KVv2(connection.client(token), mount)


def _unknown_secret_id_accessor(exc: hvac.exceptions.VaultError) -> bool:
    """Vault's ways of saying "no such secret-id accessor" (500, 404, or 403 when half gone)."""
    text = f"{_first_error(exc)} {getattr(exc, 'text', '') or ''}"
    return (
        "failed to find accessor entry" in text
        or "invalid secret id accessor" in text
        or (isinstance(exc, hvac.exceptions.InvalidPath) and not getattr(exc, "errors", None))
    )


class PkiIssuer:
    """One PKI mount reached with one token: what the mtls primitive renews from."""

    def __init__(self, client: HvacVault, mount: str) -> None:
        self._client = client
        self.mount = mount

    def issue(
        self,
        role: str,
        *,
        common_name: str,
        ttl: int | None = None,
        alt_names: tuple[str, ...] = (),
        ip_sans: tuple[str, ...] = (),
    ) -> IssuedCertificate:
        return self._client.pki_issue(
            self.mount, role, common_name=common_name, ttl=ttl, alt_names=alt_names, ip_sans=ip_sans
        )


def pki_issuer(config: Config, *, mount: str, token_sink: str) -> PkiIssuer:
    """PKI on *mount* with the token in *token_sink*'s file (renewed earlier in the run)."""
    from renewer.tokenfile import read_token

    sink = config.token(token_sink)
    token = read_token(sink.path, sink=sink.name).token
    connection = VaultConnection(config.vault, RetryPolicy.starting_now(config.run.deadline))
    return PkiIssuer(connection.client(token), mount)


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
