"""An HTTPS server on 127.0.0.1 that requires and verifies client certificates.

Its own certificate comes from a CA made in the test (trustme); it trusts
the client-certificate CAs it is given (PEM) and nothing else, and answers
``GET``/``HEAD`` on any path with a small JSON body naming the client
certificate's common name. Every accepted request is recorded (common name
and serial, no key material); a handshake the server refuses never reaches
the handler, so the client sees the TLS alert.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme


@dataclass(frozen=True)
class Client:
    common_name: str
    serial: int


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self, with_body: bool) -> None:
        cert: Any = self.connection.getpeercert()
        names = [
            value for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName"
        ]
        common_name = names[0] if names else ""
        self.server.peer.record(Client(common_name, int(cert.get("serialNumber", "0"), 16)))
        body = json.dumps({"client": common_name}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(True)

    def do_HEAD(self) -> None:
        self._answer(False)

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    peer: TlsPeer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # refused handshakes and dropped clients are expected here


class TlsPeer:
    """The server: ``base_url`` is ``https://127.0.0.1:PORT``; ``server_ca_pem`` verifies it."""

    def __init__(self, *, client_ca_pems: list[str], server_ca: trustme.CA | None = None) -> None:
        self.server_ca = server_ca or trustme.CA()
        self.server_ca_pem = self.server_ca.cert_pem.bytes().decode()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        context.verify_mode = ssl.CERT_REQUIRED
        for pem in client_ca_pems:
            context.load_verify_locations(cadata=pem)
        self.clients: list[Client] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.peer = self
        self._server.socket = context.wrap_socket(
            self._server.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self._server.server_address[1]
        self.base_url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def record(self, client: Client) -> None:
        with self._lock:
            self.clients.append(client)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
