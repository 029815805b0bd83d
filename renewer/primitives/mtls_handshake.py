"""The ``mtls`` TLS side: a client context from the certificate set, and the handshake test.

The handshake test is a real TLS handshake with the client certificate
against the ``base_url``'s host and port, then one ``GET /`` whose first
byte is read, because under TLS 1.3 a server refuses a client certificate
only after the handshake. A ``GET``: servers such as ``openssl s_server
-www`` never answer a ``HEAD``. An answer, whatever its status, means the
certificate was accepted; so does silence until the timeout (nothing refused
it). The server is verified against the secret's ``ca_cert`` when set (and
only against it), else the system's trust store.

The private key is handed to OpenSSL through an anonymous memory file
(``memfd``): it is never written to disk outside the store and the sinks.
Its own room: sockets, ``ssl`` and requests adapters, apart from the
primitive's decisions.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests.adapters

from renewer.bounded_http import BoundedAnswers
from renewer.primitives.base import CredentialState
from renewer.primitives.http import TransientFailure
from renewer.primitives.mtls_material import CertMaterial

if TYPE_CHECKING:
    from renewer.primitives.http import Http

_READ_BYTES = 1


@contextlib.contextmanager
def _memory_file(data: str) -> Iterator[str]:
    """A path OpenSSL can read *data* from, backed by memory (memfd) when the OS has it."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("renewer-pem", os.MFD_CLOEXEC)
        try:
            os.write(fd, data.encode())
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="renewer-") as directory:  # 0700
        path = os.path.join(directory, "pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(data)
        yield path


def client_context(found: CertMaterial, ca_pem: str | None) -> ssl.SSLContext:
    """A client context presenting *found*; trusting only *ca_pem* when given."""
    if ca_pem:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=ca_pem)
    else:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with (
        _memory_file(found.certificate + found.chain) as cert_path,
        _memory_file(found.private_key.reveal()) as key_path,
    ):
        context.load_cert_chain(cert_path, key_path)
    return context


class ClientCertAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter whose TLS is exactly *context* (client certificate, trust)."""

    def __init__(self, context: ssl.SSLContext, **kwargs: Any) -> None:
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """The context decides what is trusted; requests must not add its CA bundle."""
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


class CheckingAdapter(ClientCertAdapter, BoundedAnswers):
    """The client-certificate adapter of renewer's own test: answers read capped.

    (``bind`` keeps the plain one: what an application reads is its business.)
    """


def handshake(state: CredentialState, context: ssl.SSLContext, *, http: Http) -> tuple[str, ...]:
    """Problems of a TLS handshake (and a first read) with the client certificate; () if none.

    Only a failed TCP connect is temporary (retried, then exit 75); everything
    that happens once TLS has started is an answer about the certificates.
    """
    parts = urlsplit(state.recipe.base_url)
    if parts.scheme != "https" or not parts.hostname:
        return (f"base_url {state.recipe.base_url} is not https: there is no TLS to test",)
    host, port = parts.hostname, parts.port or 443
    request = f"GET / HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"

    def once() -> tuple[str, ...]:
        try:
            raw = socket.create_connection((host, port), timeout=http.policy.timeout)
        except OSError as exc:
            raise TransientFailure(f"could not connect to {host}:{port}") from exc
        with raw:
            try:
                return probe(context.wrap_socket(raw, server_hostname=host))
            except TimeoutError:
                raise TransientFailure(f"no TLS handshake with {host}:{port} in time") from None
            except ssl.SSLCertVerificationError as exc:
                return (
                    f"the server's certificate is not trusted ({exc.verify_message}); "
                    "store its CA as ca_cert",
                )
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError) as exc:
                # TLS 1.3 servers judge the client certificate after the handshake; a
                # refusal's alert may be lost to the reset of a socket closed with our
                # request unread. Say what was seen, and what it most likely means.
                return (
                    f"the server closed the connection during TLS ({type(exc).__name__}); "
                    "it most likely refused the client certificate",
                )
            except ssl.SSLError as exc:
                reason = (exc.reason or type(exc).__name__).lower().replace("_", " ")
                return (f"the TLS handshake failed: {reason}",)
            except OSError as exc:
                return (f"the TLS connection failed ({type(exc).__name__})",)

    def probe(tls: ssl.SSLSocket) -> tuple[str, ...]:
        """After the handshake: a refusal arrives as an alert or a close; anything else is fine."""
        with tls:
            tls.sendall(request.encode())
            try:
                first = tls.recv(_READ_BYTES)
            except TimeoutError:
                return ()  # no refusal, no answer within the timeout: the certificate stood
        if not first:
            return (
                "the server closed the connection without answering; it may have refused "
                "the client certificate",
            )
        return ()

    return http.retrying(once, what=f"{state.name}: TLS handshake with {host}:{port}")
