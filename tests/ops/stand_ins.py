"""Small real peers for the operability tests: a webhook receiver and recording stand-ins.

The receiver is a real HTTP server on 127.0.0.1. The stand-ins replace
binaries that cannot run on a test machine (``notify-send`` needs a desktop
session bus; ``systemctl --user``/``loginctl`` need a user manager): each is a
tiny executable that records its argv as one JSON line and exits as told, so a
test can assert exactly what renewer or install.sh asked of them.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# What `systemctl --user show renewer.timer renewer.service 'renewer-retry@*.timer' -p …`
# printed in a real systemd 252 user manager (TZ=UTC) with the timer enabled and running,
# its after-boot trigger long past (so only the calendar trigger is left), no retry pending.
SHOW_ENABLED = """\
NextElapseUSecRealtime=Fri 2026-11-27 00:19:42 UTC
NextElapseUSecMonotonic=infinity
LastTriggerUSec=Thu 2026-11-26 12:21:14 UTC
Result=success
Id=renewer.timer
LoadState=loaded
ActiveState=active
UnitFileState=enabled

Result=success
Id=renewer.service
LoadState=loaded
ActiveState=inactive
UnitFileState=static
"""
RECORDER = """\
#!{python}
# Stand-in for `{name}`, which cannot run here ({why}).
# Records its argv as one JSON line in {log}, prints $FAKE_{var}_STDOUT and
# exits with $FAKE_{var}_EXIT (default: nothing, 0).
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
sys.stdout.write(os.environ.get("FAKE_{var}_STDOUT", ""))
sys.exit(int(os.environ.get("FAKE_{var}_EXIT", "0")))
"""


def install_recorder(bin_dir: Path, name: str, *, why: str) -> Path:
    """Write an executable stand-in *name* into *bin_dir*; return its log file."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    log = bin_dir / f"{name}.calls"
    var = name.upper().replace("-", "_")
    script = bin_dir / name
    script.write_text(
        RECORDER.format(python=sys.executable, name=name, why=why, log=str(log), var=var)
    )
    script.chmod(0o755)
    return log


def calls(log: Path) -> list[list[str]]:
    """The argv of every call a stand-in recorded, in order."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A real HTTP server; answers every POST with *status* after *delay* seconds."""

    status: int = 204
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def webhook_receiver(status: int = 204, delay: float = 0.0) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(status=status, delay=delay)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            time.sleep(receiver.delay)
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
