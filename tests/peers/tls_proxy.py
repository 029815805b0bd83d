"""A TLS front for the dev server: ``https://127.0.0.1:PORT`` with a certificate from a test CA.

Real Vaults are reached over https with a CA bundle (``vault.ca_cert``); the
dev server speaks plain http. This peer terminates TLS with a trustme
certificate for 127.0.0.1 and forwards the bytes both ways to the dev
server, so every renewer path (hvac, and the kept-alive sweep connections)
runs over real, verified TLS in the tests.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass
class TlsFront:
    addr: str  # https://127.0.0.1:PORT
    ca_file: Path  # the CA that signed the front's certificate


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()  # the other direction's recv then ends with an OSError


def _serve(listener: socket.socket, context: ssl.SSLContext, upstream: tuple[str, int]) -> None:
    while True:
        try:
            raw, _ = listener.accept()
        except OSError:
            return  # closed: the fixture is done
        try:
            client = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()  # e.g. a client that does not trust our CA
            continue
        backend = socket.create_connection(upstream)
        for source, target in ((client, backend), (backend, client)):
            threading.Thread(target=_pump, args=(source, target), daemon=True).start()


@contextmanager
def tls_front(upstream_addr: str, directory: Path) -> Iterator[TlsFront]:
    """Serve TLS on a free loopback port in front of *upstream_addr* (http://host:port)."""
    host, port = upstream_addr.removeprefix("http://").rsplit(":", 1)
    ca = trustme.CA()
    ca_file = directory / "vault-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(
        target=_serve, args=(listener, context, (host, int(port))), daemon=True
    )
    thread.start()
    try:
        yield TlsFront(f"https://127.0.0.1:{listener.getsockname()[1]}", ca_file)
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        thread.join(timeout=5)
