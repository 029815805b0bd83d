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

The sender's pid comes with every datagram (``SO_PASSCRED``), so entries from
other processes on the machine can be told apart.
"""

from __future__ import annotations

import array
import contextlib
import errno
import json
import os
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SOCKET_PATH = Path("/run/systemd/journal/socket")
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


class JournalctlReader:
    """Where a live journald owns the socket: read what it stored, with journalctl.

    Same ``collect`` as :class:`JournalSocket`. journald may take a moment to
    make an entry visible, so this polls for a few seconds.
    """

    def __init__(self, journalctl: str) -> None:
        self._journalctl = journalctl
        self.entries: list[Entry] = []

    def _read(self, pid: int) -> list[Entry]:
        completed = subprocess.run(
            [self._journalctl, "--output=json", "--no-pager", f"_PID={pid}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        entries = []
        for line in completed.stdout.splitlines():
            record = json.loads(line)
            fields = tuple((key, value) for key, value in record.items() if isinstance(value, str))
            entries.append(Entry(pid, fields))
        return entries

    def collect(
        self, *, pids: set[int], until_quiet: float = 0.5, limit: float = 10
    ) -> list[Entry]:
        deadline = time.monotonic() + limit
        found: list[Entry] = []
        while time.monotonic() < deadline:
            found = [entry for pid in sorted(pids) for entry in self._read(pid)]
            if found:
                time.sleep(until_quiet)  # let the rest of the run's entries land
                found = [entry for pid in sorted(pids) for entry in self._read(pid)]
                break
            time.sleep(0.2)
        self.entries = found
        return found


def live_journal_reader() -> JournalctlReader | None:
    """A journalctl reader when a live journald owns the socket and can be read back."""
    journalctl = shutil.which("journalctl")
    if journalctl is None or not SOCKET_PATH.exists():
        return None
    probe = subprocess.run(
        [journalctl, "--output=json", "--no-pager", "-n", "1"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return JournalctlReader(journalctl) if probe.returncode == 0 and probe.stdout else None


def journal_socket_problem() -> str:
    """Why the test cannot take journald's place here, or "" when it can."""
    if os.geteuid() != 0:
        return f"binding {SOCKET_PATH} needs root"
    if not SOCKET_PATH.exists():
        return ""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.connect(str(SOCKET_PATH))
    except OSError as exc:
        if exc.errno == errno.ECONNREFUSED:
            return f"{SOCKET_PATH} exists but nothing listens (a stale socket not ours to remove)"
        return f"{SOCKET_PATH} exists and cannot be probed ({exc.strerror})"
    finally:
        probe.close()
    return f"a live journald owns {SOCKET_PATH}"


@contextlib.contextmanager
def bound_journal_socket(*, listen: bool = True) -> Iterator[JournalSocket]:
    """Bind journald's socket for the duration; remove it and any directory made for it.

    With ``listen=False`` the socket is closed at once and its file left in
    place: a stale socket, as after journald died (sends fail with ECONNREFUSED).
    The caller checks :func:`journal_socket_problem` first.
    """
    made: list[Path] = []
    for directory in (SOCKET_PATH.parent.parent, SOCKET_PATH.parent):
        if not directory.exists():
            directory.mkdir(mode=0o755)
            made.append(directory)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    bound = False
    try:
        sock.bind(str(SOCKET_PATH))  # fails if anyone else got there first: theirs stays
        bound = True
        os.chmod(SOCKET_PATH, 0o666)  # noqa: S103 - as journald's: every user logs
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        if not listen:
            sock.close()
        yield JournalSocket(sock)
    finally:
        sock.close()
        if bound:
            with contextlib.suppress(FileNotFoundError):
                SOCKET_PATH.unlink()
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()
