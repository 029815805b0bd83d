"""A local webhook receiver on 127.0.0.1 that verifies GitHub or Slack signatures.

It plays the service whose signing secret rotates: during the grace period
it accepts a signature made with any of its accepted secrets, afterwards
only the new one. Accepted secrets come from the test (``accept``) or from
a keys file a post-rotation hook wrote (``keys_file``), as a real service
reads its config.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from renewer.rotation.signing import WebhookKind, verify_github, verify_slack


@dataclass
class Receiver:
    kind: WebhookKind
    url: str = ""
    accepted: list[str] = field(default_factory=list)
    keys_file: Path | None = None
    statuses: list[int] = field(default_factory=list)

    def accept(self, *secrets: str) -> None:
        self.accepted = list(secrets)

    def current_keys(self) -> list[bytes]:
        if self.keys_file is not None and self.keys_file.exists():
            document = json.loads(self.keys_file.read_text())
            return [key.encode() for key in document["accept"] if key]
        return [key.encode() for key in self.accepted]

    def verdict(self, body: bytes, headers: dict[str, str]) -> int:
        keys = self.current_keys()
        if self.kind is WebhookKind.GITHUB:
            ok = verify_github(keys, body, headers)
        else:
            ok = verify_slack(keys, body, headers, now=time.time())
        return 204 if ok else 401


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    """Serve *receiver* on a free loopback port for the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = receiver.verdict(body, dict(self.headers.items()))
            receiver.statuses.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read statuses, not logs."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
