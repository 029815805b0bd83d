"""A WSGI app on waitress in a background thread, and stopping it in the right order.

Shared by the dev server and the tests' fault proxy.

waitress's event loop sleeps in ``select()``; anything that wants it awake
(a worker thread with a response ready, or us asking it to stop) writes a
byte to a pipe it watches, the *trigger*. The trigger's two ends are bare
file descriptor numbers, so the order of stopping matters:

1. in the loop thread: close the listening socket and every connection the
   way waitress itself does (``handle_close``, which also wakes a worker
   waiting for its output to drain; ``close`` left it waiting for ever);
2. join the worker threads: after this no thread pulls the trigger;
3. in the loop thread: close the trigger; the loop has nothing left and returns;
4. join the loop thread.

Closing the trigger before the workers were done left a late worker writing
to a closed descriptor number, or to whatever file the process had opened
under that number meanwhile.

The trigger's write end is also checked when stopping: if something else in
the process closed that number (or closed it and opened another file under
it), :class:`TriggerLost` says so and names what the number is now, instead
of a bare ``EBADF`` from deep inside waitress.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

STOP_TIMEOUT = 5.0  # seconds per step; a stuck request must not hang a test session


class TriggerLost(RuntimeError):
    """The descriptor waitress wakes its loop with no longer is its pipe."""


def identity(fd: int) -> tuple[int, int] | None:
    """(device, inode) of what *fd* refers to; None when it is not open."""
    try:
        status = os.fstat(fd)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def lost(fd: int, expected: tuple[int, int] | None) -> str | None:
    """None while *fd* still refers to *expected*; else what it is now (or ``closed``)."""
    now = identity(fd)
    if expected is None or now == expected:
        return None
    if now is None:
        return "closed"
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "another file"


class WaitressThread:
    """``create_server(app, **adjustments)`` served by a daemon thread named *name*."""

    def __init__(self, app: Callable[..., Any], *, name: str, **adjustments: Any) -> None:
        self._app = app
        self._name = name
        self._adjustments = adjustments
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._trigger: tuple[int, tuple[int, int] | None] = (-1, None)

    @property
    def server(self) -> Any:
        """waitress's server object (None before start and after stop)."""
        return self._server

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{self._name} is not running")
        return int(self._server.effective_port)

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError(f"{self._name} already started")
        # waitress warns about every request that waits for a free thread; under a
        # benchmark that is thousands of lines saying the server is busy.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        server: Any = create_server(self._app, **self._adjustments)  # one listener: TcpWSGIServer
        # Not a create_server() keyword; read at every accept, so set before serving.
        # Without TCP_NODELAY a kept-alive client waits ~40 ms per request (Nagle).
        server.adj.socket_options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        write_end = server.trigger.trigger
        self._trigger = (write_end, identity(write_end))
        self._server = server
        self._thread = threading.Thread(target=server.run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close the connections, join the workers, then end the loop."""
        server = self._server
        if server is None:
            return
        self._check_trigger()  # raises before anything changed: stop() may be called again
        self._server = None
        trigger = server.trigger
        disconnected = threading.Event()

        def disconnect() -> None:  # runs in the loop thread
            for channel in list(server._map.values()):
                if channel is server:
                    # the listener only: BaseWSGIServer.close() would close the trigger too
                    wasyncore.dispatcher.close(server)
                elif channel is not trigger:
                    channel.handle_close()
            disconnected.set()

        trigger.pull_trigger(disconnect)
        disconnected.wait(timeout=STOP_TIMEOUT)
        server.task_dispatcher.shutdown(timeout=STOP_TIMEOUT)
        trigger.pull_trigger(trigger.close)
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)

    def _check_trigger(self) -> None:
        write_end, expected = self._trigger
        now = lost(write_end, expected)
        if now is not None:
            raise TriggerLost(
                f"{self._name}: the write end of waitress's wake-up pipe (fd {write_end}) "
                "was closed by something else in this process while the server ran; "
                f"fd {write_end} is now {now}"
            )
