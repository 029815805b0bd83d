"""Kept-alive ``http.client`` connections for the full scan's one hot loop."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

import hvac.exceptions
import hvac.utils
import requests

from renewer.config import VaultSettings
from renewer.core.model import MalformedResponse
from renewer.core.secret import Secret
from renewer.errors import VaultUnavailable
from renewer.vault.transport import MAX_ANSWER_BYTES, decode_json


class KeepAlive:
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
        document = decode_json(data, response.getheader("Content-Type"))
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
