"""A listener on journald's native socket, and a parser for what arrives there.

Not a mock of anything in renewer: it takes journald's place on the socket
(``/run/systemd/journal/socket``, the path libsystemd always uses) so that a
real ``renewer`` process, through the real systemd-python, sends real
datagrams, which are then parsed by the native protocol
(https://systemd.io/JOURNAL_NATIVE_PROTOCOL/):

* a field is ``KEY=value\\n``, or, when the value holds a newline, ``KEY\\n``,
  a little-endian 64-bit length, the value and ``\\n``;
* a payload too large for one datagram arrives as a sealed memfd passed with
  ``SCM_RIGHTS`` and an empty datagram.

The socket is never the machine's: that path is shared by everything on the
host (a live journald, another checkout's test run binding it at the same
moment), so what a test saw there would depend on what else runs. Instead the
process under test starts in a mount namespace of its own whose
``/run/systemd`` is a directory of the test's (:class:`PrivateJournal`): there
is a listening socket, a dead one, or none, exactly as the test made it.

The sender's pid comes with every datagram (``SO_PASSCRED``), so entries from
other processes (none are expected) can be told apart.
"""

from __future__ import annotations

import array
import contextlib
import functools
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SocketState = Literal["listening", "dead", "absent"]
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid
_MAX_DATAGRAM = 1 << 20


def parse_native(data: bytes) -> list[tuple[str, str]]:
    """The fields of one native-protocol payload, in order (a key may repeat)."""
    fields: list[tuple[str, str]] = []
    position = 0
    while position < len(data):
        newline = data.index(b"\n", position)
        line = data[position:newline]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            position = newline + 1
        else:
            key = line
            (size,) = struct.unpack_from("<Q", data, newline + 1)
            start = newline + 1 + 8
            value = data[start : start + size]
            if data[start + size : start + size + 1] != b"\n":
                raise ValueError(f"binary field {key!r} is not terminated by a newline")
            position = start + size + 1
        fields.append((key.decode("ascii"), value.decode("utf-8", "replace")))
    return fields


@dataclass(frozen=True)
class Entry:
    """One journal entry as received: the sender's pid and its fields."""

    pid: int
    fields: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        values = [value for name, value in self.fields if name == key]
        return values[-1] if values else None

    def as_text(self) -> str:
        return "\n".join(f"{key}={value}" for key, value in self.fields)


class JournalSocket:
    """journald's native socket, bound by the test; see :func:`bound_journal_socket`."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.entries: list[Entry] = []

    def _receive_one(self, timeout: float) -> Entry | None:
        self._sock.settimeout(timeout)
        space = socket.CMSG_SPACE(_CREDENTIALS.size) + socket.CMSG_SPACE(4 * 4)
        try:
            data, ancillary, _flags, _address = self._sock.recvmsg(_MAX_DATAGRAM, space)
        except TimeoutError:
            return None
        pid = 0
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = _CREDENTIALS.unpack(payload[: _CREDENTIALS.size])[0]
            elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                descriptors = array.array("i")
                descriptors.frombytes(payload[: len(payload) - len(payload) % 4])
                for fd in descriptors:
                    with os.fdopen(fd, "rb") as memfd:
                        memfd.seek(0)
                        data += memfd.read()
        return Entry(pid, tuple(parse_native(data)))

    def collect(
        self, *, pids: set[int], until_quiet: float = 0.3, limit: float = 10
    ) -> list[Entry]:
        """Receive until nothing arrived for *until_quiet* s; keep entries from *pids*."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            entry = self._receive_one(until_quiet)
            if entry is None:
                break
            if entry.pid in pids:
                self.entries.append(entry)
        return [entry for entry in self.entries if entry.pid in pids]


class PrivateJournal:
    """A directory that a child process sees as its ``/run/systemd``; see :func:`private_journal`.

    :meth:`argv` wraps a command so that it runs in a mount namespace of its
    own (``unshare --mount``, private propagation) where this directory is
    bind-mounted on ``/run/systemd``. The pid stays the same (``unshare`` and
    ``sh`` exec), so the pid a datagram carries is the ``Popen``'s.
    """

    def __init__(self, root: Path, socket: JournalSocket | None) -> None:
        self.root = root
        self.socket = socket

    def argv(self, command: Sequence[str]) -> list[str]:
        return [*_UNSHARE, _BIND_RUN_SYSTEMD, str(self.root), *command]

    def collect(self, *, pids: set[int]) -> list[Entry]:
        """What the listening socket received from *pids* (nothing when there is none)."""
        return self.socket.collect(pids=pids) if self.socket is not None else []


_UNSHARE = ("unshare", "--mount", "--propagation", "private", "sh", "-euc")
# Where the host has no /run/systemd there is nothing to mount on: a tmpfs on /run
# (in the namespace only) provides the mount point.
_BIND_RUN_SYSTEMD = """
[ -d /run/systemd ] || { mount -t tmpfs -o mode=755 tmpfs /run; mkdir /run/systemd; }
mount --bind "$0" /run/systemd
exec "$@"
"""


@functools.cache
def namespace_problem() -> str:
    """Why a child cannot be given a ``/run/systemd`` of its own here, or "" when it can."""
    if os.geteuid() != 0:
        return "a private /run/systemd needs root (a mount namespace)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    with tempfile.TemporaryDirectory(prefix="renewer-journal-") as directory:
        probe = PrivateJournal(Path(directory), None).argv(["true"])
        completed = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    if completed.returncode != 0:
        return f"cannot mount a private /run/systemd: {completed.stderr.strip()}"
    return ""


@contextlib.contextmanager
def private_journal(socket_state: SocketState = "listening") -> Iterator[PrivateJournal]:
    """A private ``/run/systemd`` whose ``journal/socket`` is *socket_state*.

    ``listening``: bound by the test (``SO_PASSCRED``), as journald's;
    ``dead``: the socket file is there but closed, as after journald died
    (sends fail with ECONNREFUSED); ``absent``: no journald at all. The caller
    checks :func:`namespace_problem` first. A short path under the temp dir:
    ``sun_path`` holds 108 bytes.
    """
    with tempfile.TemporaryDirectory(prefix="renewer-journal-") as directory:
        root = Path(directory)
        root.chmod(0o755)  # as /run/systemd: readable by the user the child may be
        if socket_state == "absent":
            yield PrivateJournal(root, None)
            return
        (root / "journal").mkdir()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(str(root / "journal" / "socket"))
            os.chmod(root / "journal" / "socket", 0o666)  # noqa: S103 - as journald's
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            if socket_state == "dead":
                sock.close()
                yield PrivateJournal(root, None)
            else:
                yield PrivateJournal(root, JournalSocket(sock))
        finally:
            sock.close()
