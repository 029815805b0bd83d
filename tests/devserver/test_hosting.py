"""Stopping waitress: the connections, then the workers, then the loop (devserver.hosting)."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from renewer.devserver.hosting import TriggerLost, WaitressThread, identity, lost

WATERMARK = 256 * 1024


def endless(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    """A response that never ends: a client that does not read fills waitress's buffers."""
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    chunk = b"x" * 65536
    while True:
        yield chunk


def parked_in_drain_wait(channel: object) -> int | None:
    """The worker thread waiting for *channel*'s output to drain below the watermark."""
    for ident, frame in sys._current_frames().items():
        walking: Any = frame
        while walking is not None:
            code = walking.f_code.co_name
            if (
                code == "_flush_outbufs_below_high_watermark"
                and walking.f_locals.get("self") is channel
                and frame.f_code.co_name == "wait"
            ):
                return ident
            walking = walking.f_back
    return None


def test_a_worker_waiting_for_a_slow_client_ends_with_the_server() -> None:
    """Stopping wakes a worker parked on a client that stopped reading; none is left behind.

    Closing the connection with ``close()`` (not waitress's ``handle_close``)
    never woke it: ``stop`` waited 5 s, then left the thread waiting for ever.
    """
    host = WaitressThread(
        endless,
        name="hosting-test",
        host="127.0.0.1",
        port=0,
        threads=1,
        outbuf_high_watermark=WATERMARK,
    )
    host.start()
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        client.connect(("127.0.0.1", host.port))
        client.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")  # and never read
        server = host.server
        worker = None
        for _ in range(3000):  # the worker parks within milliseconds; 30 s is a broken server
            channels = list(server.active_channels.values())
            worker = parked_in_drain_wait(channels[0]) if channels else None
            if worker is not None:
                break
            threading.Event().wait(0.01)
        assert worker is not None, "the worker never waited for the client to read"

        host.stop()

        assert worker not in {thread.ident for thread in threading.enumerate()}
        assert not server.task_dispatcher.threads
    finally:
        client.close()


def test_stop_says_when_the_wake_up_pipe_was_taken_away() -> None:
    """A descriptor closed behind waitress's back is named, with what the number is now."""
    reader, writer = os.pipe()
    expected = identity(writer)
    try:
        assert lost(writer, expected) is None

        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, writer)  # what a double close followed by an open looks like
        os.close(null)
        assert lost(writer, expected) == os.devnull

        os.close(writer)
        assert lost(writer, expected) == "closed"
    finally:
        os.close(reader)
        if identity(writer) is not None:
            os.close(writer)


def test_stop_refuses_with_the_story_when_the_pipe_is_gone() -> None:
    """``stop()`` raises TriggerLost (not a bare EBADF from inside waitress)."""
    host = WaitressThread(endless, name="hosting-test", host="127.0.0.1", port=0, threads=1)
    host.start()
    server = host.server
    write_end = server.trigger.trigger
    null = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(write_end)
    os.dup2(null, write_end)
    os.close(null)
    try:
        with pytest.raises(TriggerLost, match=rf"fd {write_end} is now /dev/null"):
            host.stop()
    finally:
        os.dup2(saved, write_end)  # the pipe back in place, so the server can be stopped
        os.close(saved)
        host.stop()
