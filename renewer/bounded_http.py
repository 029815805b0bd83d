"""An HTTP adapter that reads answers itself: capped, never decompressed, never forever.

requests reads a whole body into memory, inflates gzip without a limit and
lets a peer trickle one byte per read timeout for as long as it likes. A
Vault, a token endpoint or an API that misbehaves (or is not who it claims)
must not be able to exhaust memory or stall a oneshot run, so every answer
renewer reads goes through :class:`BoundedAnswers`: a declared length over
the cap is refused unread, a body is read in chunks up to the cap, only the
identity encoding is accepted (sessions ask for it), and the reading stops
when the time allowed for the answer is over.

What a refused answer *means* differs by caller (Vault: malformed, temporary;
a service: unusable, a credential error), so the caller supplies the
exception through ``refuse``.

What the environment may change (issue 20, item 10). Vault's session takes
nothing from it (``trust_env=False``: the config names Vault and its CA,
``$VAULT_CACERT`` at most). A service session (token endpoints, STS, service
APIs) takes the network plumbing a devvm may need and nothing else, read
explicitly here rather than by requests' ``trust_env``:

* the proxy variables (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``,
  ``NO_PROXY``), resolved per request: behind a corporate proxy the services
  are reachable no other way, and TLS goes through it end to end;
* ``REQUESTS_CA_BUNDLE`` (else ``CURL_CA_BUNDLE``) as the trust store, when no
  caller chose one: a TLS-inspecting proxy's CA is installed that way, as on
  our own build machines; only the person's own environment can set it;
* never ``~/.netrc``: renewer authenticates every request itself, and a
  password kept there for another tool would be sent to the service as Basic
  auth whenever a recipe injects its credential elsewhere (a query key, a
  form field).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
import urllib3.exceptions

READ_CHUNK = 64 * 1024
SERVICE_ANSWER_BYTES = 8 * 1024 * 1024  # a token answer or a test endpoint's; far beyond any

Refuse = Callable[[str, str], Exception]
"""``refuse(reason, host)``: the exception that a refused answer becomes."""


class BoundedAnswers(requests.adapters.HTTPAdapter):
    """Reads each body itself within *max_bytes* and the time *time_left* reports.

    *time_left* is asked before every chunk; when it is None each answer gets
    *answer_seconds* from the moment it was sent.
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        refuse: Refuse,
        time_left: Callable[[], float] | None = None,
        answer_seconds: float = 30.0,
        proxies_from_env: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_bytes = max_bytes
        self._refuse = refuse
        self._time_left = time_left
        self._answer_seconds = answer_seconds
        self._proxies_from_env = proxies_from_env

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        if self._proxies_from_env:
            # The session does not trust the environment (no netrc); what a service
            # session takes from it is read here: proxies (NO_PROXY too), a CA bundle.
            if not kwargs.get("proxies"):
                kwargs["proxies"] = requests.utils.get_environ_proxies(request.url or "")
            if kwargs.get("verify", True) is True:
                kwargs["verify"] = _environ_ca_bundle() or True
        started = time.monotonic()
        response = super().send(request, stream=True, **kwargs)
        if stream:
            return response
        time_left = self._time_left or (lambda: self._answer_seconds - (time.monotonic() - started))
        try:
            body = self._read(response, time_left, urlsplit(request.url or "").netloc)
        except BaseException:
            response.close()  # never hand the rest of a hostile body to the next request
            raise
        # What requests' own Response.content does once it has read the body.
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    def _read(
        self, response: requests.Response, time_left: Callable[[], float], host: str
    ) -> bytes:
        too_large = f"the answer is larger than {_size(self.max_bytes)}"
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if encoding not in {"", "identity"}:
            raise self._refuse(f"the answer is {encoding}-encoded (renewer asked for none)", host)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._refuse(too_large, host)
        raw = response.raw
        read = getattr(raw, "read1", None) or raw.read
        chunks: list[bytes] = []
        total = 0
        while True:
            if time_left() <= 0:
                raise requests.exceptions.ReadTimeout(
                    f"the time allowed ran out while the answer from {host} was still arriving"
                )
            try:
                chunk = read(READ_CHUNK, decode_content=False)
            except urllib3.exceptions.ReadTimeoutError as exc:
                raise requests.exceptions.ReadTimeout(str(exc)) from None
            except urllib3.exceptions.ProtocolError as exc:
                raise requests.exceptions.ChunkedEncodingError(str(exc)) from None
            except urllib3.exceptions.HTTPError as exc:
                raise requests.ConnectionError(str(exc)) from None
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > self.max_bytes:
                raise self._refuse(too_large, host)
            chunks.append(chunk)


def _environ_ca_bundle() -> str | None:
    """requests' own rule for the CA bundle from the environment."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


def bound(session: requests.Session, adapter: BoundedAnswers) -> requests.Session:
    """Mount *adapter* for http and https on *session* and ask for undecoded answers."""
    session.headers["Accept-Encoding"] = "identity"  # no decompression bombs
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def service_session(
    *, answer_seconds: float = 30.0, session: requests.Session | None = None
) -> requests.Session:
    """A session for token endpoints, STS and service APIs: answers capped at 8 MiB.

    From the environment it takes proxies and a CA bundle, never ~/.netrc (module docstring).
    """
    session = session if session is not None else requests.Session()
    session.trust_env = False  # no ~/.netrc; proxies and the CA bundle: the adapter
    adapter = BoundedAnswers(
        max_bytes=SERVICE_ANSWER_BYTES,
        refuse=service_refused,
        answer_seconds=answer_seconds,
        proxies_from_env=True,
    )
    return bound(session, adapter)


def service_refused(reason: str, host: str) -> Exception:
    from renewer.errors import CredentialError

    return CredentialError(
        f"the answer from {host or 'the service'} was refused: {reason}",
        hint="nothing was stored; check the service's status and the recipe's URLs",
    )


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count >= 1 << 20 and not count % (1 << 20) else f"{count} bytes"
