"""Simulated power loss, ALICE-style: record renewer's file-system calls, replay every crash state.

SIGKILL keeps the page cache; a power cut does not. dm-log-writes, CrashMonkey
or VM snapshots need a block device or a hypervisor this container does not
have, so this module does what ALICE (OSDI '14) does one level up: it
records the calls a protocol makes (open/create, write, fsync of a file or a
directory, rename, unlink, symlink, mkdir), then, for every prefix of that
log, builds every state a journaling file system may come back with:

* a directory operation (create, rename, unlink, symlink, mkdir) is durable
  once its directory has been fsynced; before that, any *prefix* of a
  directory's pending operations may have reached the disk (metadata is
  journaled in order, as on ext4);
* a file's data is durable as of its last fsync; bytes written after that
  may or may not be there (pessimistically: all, or none beyond the fsync);
  a file never fsynced may come back empty.

Each state is materialised as ``{path: bytes | link target | None}`` for the
paths a protocol cares about, and the protocol's invariant is checked on it.
A protocol that forgets an fsync (``without_fsyncs``) is caught: the model
then produces an empty or torn token file, or a minted token no file and no
ledger entry remembers.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from renewer import crashpoints


@dataclass(frozen=True)
class Op:
    kind: str  # create, write, truncate, fsync, rename, unlink, symlink, mkdir, mark
    path: str = ""
    other: str = ""  # rename's destination, symlink's target, mark's name
    data: bytes = b""


@dataclass
class Recorder:
    """Wraps the ``os`` calls renewer writes with; records those under *root*."""

    root: str
    ops: list[Op] = field(default_factory=list)
    _fds: dict[int, str] = field(default_factory=dict)

    def mine(self, path: Any) -> bool:
        return isinstance(path, str | os.PathLike) and os.path.abspath(path).startswith(self.root)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_open, real_write, real_fsync, real_close = os.open, os.write, os.fsync, os.close
        real_replace, real_rename, real_unlink = os.replace, os.rename, os.unlink
        real_symlink, real_mkdir, real_reached = os.symlink, os.mkdir, crashpoints.reached

        def open_(path: Any, flags: int, mode: int = 0o777, *a: Any, **k: Any) -> int:
            existed = os.path.lexists(path)
            fd = real_open(path, flags, mode, *a, **k)
            if self.mine(path):
                full = os.path.abspath(path)
                self._fds[fd] = full
                if flags & os.O_CREAT and not existed:
                    self.ops.append(Op("create", full))
                elif flags & os.O_TRUNC:
                    self.ops.append(Op("truncate", full))
            return fd

        def write(fd: int, data: Any) -> int:
            written = real_write(fd, data)
            if fd in self._fds:
                self.ops.append(Op("write", self._fds[fd], data=bytes(data[:written])))
            return written

        def fsync(fd: Any) -> None:
            real_fsync(fd)
            if isinstance(fd, int) and fd in self._fds:
                self.ops.append(Op("fsync", self._fds[fd]))

        def close(fd: int) -> None:
            real_close(fd)
            self._fds.pop(fd, None)

        def replace(src: Any, dst: Any, *a: Any, **k: Any) -> None:
            real_replace(src, dst, *a, **k)
            if self.mine(dst):
                self.ops.append(Op("rename", os.path.abspath(src), os.path.abspath(dst)))

        def rename(src: Any, dst: Any, *a: Any, **k: Any) -> None:
            real_rename(src, dst, *a, **k)
            if self.mine(dst):
                self.ops.append(Op("rename", os.path.abspath(src), os.path.abspath(dst)))

        def unlink(path: Any, *a: Any, **k: Any) -> None:
            real_unlink(path, *a, **k)
            if self.mine(path):
                self.ops.append(Op("unlink", os.path.abspath(path)))

        def symlink(target: Any, path: Any, *a: Any, **k: Any) -> None:
            real_symlink(target, path, *a, **k)
            if self.mine(path):
                self.ops.append(Op("symlink", os.path.abspath(path), str(target)))

        def mkdir(path: Any, *a: Any, **k: Any) -> None:
            real_mkdir(path, *a, **k)
            if self.mine(path):
                self.ops.append(Op("mkdir", os.path.abspath(path)))

        def reached(point: str) -> None:
            self.ops.append(Op("mark", other=point))
            real_reached(point)

        for name, wrapper in [
            ("open", open_),
            ("write", write),
            ("fsync", fsync),
            ("close", close),
            ("replace", replace),
            ("rename", rename),
            ("unlink", unlink),
            ("symlink", symlink),
            ("mkdir", mkdir),
        ]:
            monkeypatch.setattr(os, name, wrapper)
        monkeypatch.setattr(crashpoints, "reached", reached)


def without_fsyncs(ops: Sequence[Op], *, of: Callable[[str], bool]) -> list[Op]:
    """The log as a renewer that never fsyncs the matching paths would have written it."""
    return [op for op in ops if not (op.kind == "fsync" and of(op.path))]


# --- replay ---------------------------------------------------------------------------

Content = bytes | str | None  # file bytes, a symlink's target (str), or absent


@dataclass
class _Inode:
    data: bytes = b""
    durable: bytes | None = None  # as of the last fsync; None: never fsynced
    link: str | None = None  # a symlink's target


@dataclass
class _Replay:
    """The volatile file system after a prefix of the log, and what each fsync made durable."""

    entries: dict[str, int]  # path → inode (what the process saw)
    inodes: dict[int, _Inode]
    durable_entries: dict[str, int]
    pending: dict[str, list[Op]]  # directory → dir operations not yet fsynced
    next_inode: int = 1_000_000

    def apply(self, op: Op) -> None:
        parent = os.path.dirname(op.path)
        if op.kind in {"create", "mkdir", "symlink"}:
            self.next_inode += 1
            self.inodes[self.next_inode] = _Inode(link=op.other if op.kind == "symlink" else None)
            self.entries[op.path] = self.next_inode
            self.pending.setdefault(parent, []).append(replace_op(op, self.next_inode))
        elif op.kind == "write":
            self.inodes[self.entries[op.path]].data += op.data
        elif op.kind == "truncate":
            self.inodes[self.entries[op.path]].data = b""
        elif op.kind == "rename":
            self.entries[op.other] = self.entries.pop(op.path)
            self.pending.setdefault(parent, []).append(op)
            if os.path.dirname(op.other) != parent:
                self.pending.setdefault(os.path.dirname(op.other), []).append(op)
        elif op.kind == "unlink":
            self.entries.pop(op.path, None)
            self.pending.setdefault(parent, []).append(op)
        elif op.kind == "fsync":
            inode = self.entries.get(op.path)
            if op.path in self.pending or inode is None or os.path.isdir(op.path):
                self._settle(op.path)
            if inode is not None:
                self.inodes[inode].durable = self.inodes[inode].data

    def _settle(self, directory: str) -> None:
        for op in self.pending.pop(directory, []):
            _apply_entry(self.durable_entries, op)


def replace_op(op: Op, inode: int) -> Op:
    return Op(op.kind, op.path, op.other, str(inode).encode())


def _apply_entry(entries: dict[str, int], op: Op) -> None:
    if op.kind in {"create", "mkdir", "symlink"}:
        entries[op.path] = int(op.data)
    elif op.kind == "rename" and op.path in entries:
        entries[op.other] = entries.pop(op.path)
    elif op.kind == "unlink":
        entries.pop(op.path, None)


def crash_states(
    initial: dict[str, Content], ops: Sequence[Op]
) -> Iterator[tuple[int, list[str], dict[str, Content]]]:
    """For every prefix of *ops*: every state the disk may hold, as (index, marks, state)."""
    for cut in range(len(ops) + 1):
        replay = _fresh(initial)
        marks = []
        for op in ops[:cut]:
            if op.kind == "mark":
                marks.append(op.other)
            else:
                replay.apply(op)
        yield from ((cut, marks, state) for state in _states(replay))


def _fresh(initial: dict[str, Content]) -> _Replay:
    inodes: dict[int, _Inode] = {}
    entries: dict[str, int] = {}
    for number, (path, content) in enumerate(sorted(initial.items()), start=1):
        if content is None:
            continue
        if isinstance(content, str):
            inodes[number] = _Inode(link=content)
        else:
            inodes[number] = _Inode(data=content, durable=content)
        entries[path] = number
    return _Replay(entries=dict(entries), inodes=inodes, durable_entries=dict(entries), pending={})


def _states(replay: _Replay) -> Iterator[dict[str, Content]]:
    directories = sorted(replay.pending)
    prefixes = [range(len(replay.pending[d]) + 1) for d in directories]
    for choice in itertools.product(*prefixes):
        entries = dict(replay.durable_entries)
        for directory, length in zip(directories, choice, strict=True):
            for op in replay.pending[directory][:length]:
                _apply_entry(entries, op)
        for volatile in (False, True):
            yield {
                path: _content(replay.inodes[inode], volatile) for path, inode in entries.items()
            }


def _content(node: _Inode, volatile: bool) -> Content:
    """A symlink's target; a file's bytes with (volatile) or without its unsynced writes."""
    if node.link is not None:
        return node.link
    if volatile:
        return node.data
    return node.durable if node.durable is not None else b""


def snapshot_tree(root: Path) -> dict[str, Content]:
    """Every file and symlink under *root*, as the replay's starting point."""
    state: dict[str, Content] = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]:
            path = Path(directory, name)
            state[str(path)] = os.readlink(path) if path.is_symlink() else path.read_bytes()
    return state


def resolve(state: dict[str, Content], directory: Path, link: str = "current") -> Path | None:
    """The directory a cert_dir's ``current`` symlink names in *state* (None if absent)."""
    target = state.get(str(directory / link))
    return directory / target if isinstance(target, str) else None
