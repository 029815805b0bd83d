"""May renewer trust a directory or file with its state? Owner and write bits, all the way up.

renewer's state (``state.json``, the ledger, rotation states, the local
secret store and its key) decides what it revokes, what it prints in a login
banner and which secrets it decrypts. If another user can write where it
lives, that user can rewrite it: a state dir reached through a symlink to a
0777 directory let another user replace ``state.json`` and put their text in
the banner (issue 20, item 9). So before renewer reads or writes there, the
*resolved* path (symlinks followed) is judged:

1. the path itself must belong to this user (uid) and not be writable by
   group or others;
2. every directory above it must belong to this user or to root, and must
   not be writable by group or others unless it has the sticky bit (``/tmp``:
   nobody can rename or remove what they do not own there);
3. root (uid 0) trusts only itself and root, like everyone else;
4. inside a user namespace that maps only this user (the units'
   ``PrivateUsers=yes``), root and every other user show as the overflow uid
   (65534): a directory above owned by it (``/home``) cannot be told apart,
   so only its write bits are judged there. The path itself must still be
   this user's, and every run outside the sandbox (by hand, ``status``)
   judges the real owners.

The verdict carries the exact fix command: ``chmod`` when the path is the
user's own, ``mv … .untrusted`` (renewer then makes a new one) when it is
someone else's, or a different ``state_dir`` when a directory above is not
the user's to fix. Pure: the facts are gathered by ``renewer.files``.
"""

from __future__ import annotations

import shlex
import stat
from collections.abc import Sequence
from dataclasses import dataclass

_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH


@dataclass(frozen=True, slots=True)
class PathFacts:
    """One existing path: its owner and mode (``st_mode``, type bits included)."""

    path: str
    uid: int
    mode: int


@dataclass(frozen=True, slots=True)
class Untrusted:
    """Why a path cannot hold renewer's state, and the command that fixes it."""

    problem: str
    fix: str


def _mode(facts: PathFacts) -> str:
    return f"{stat.S_IMODE(facts.mode):04o}"


def judge(
    target: PathFacts | None,
    ancestors: Sequence[PathFacts],
    *,
    uid: int,
    given: str,
    what: str,
    unmapped: int | None = None,
) -> Untrusted | None:
    """None when *target* (resolved from *given*) and its *ancestors* are safe for *what*.

    *ancestors* are the existing directories above, nearest first, up to
    ``/``. A *target* of None does not exist yet: only the directories it
    would be created in are judged. *unmapped* is the overflow uid when this
    process runs in a user namespace that hides other owners (rule 4).
    """
    resolved = target.path if target is not None else given
    where = f"{what} {given}" + (f" (→ {resolved})" if resolved != given else "")
    if target is not None:
        verdict = _judge_target(target, uid=uid, given=given, where=where)
        if verdict is not None:
            return verdict
    for parent in ancestors:
        verdict = _judge_parent(parent, uid=uid, where=where, unmapped=unmapped)
        if verdict is not None:
            return verdict
    return None


_ELSEWHERE = "set state_dir (or secrets.local.dir) in the config to a directory of your own"


def _judge_target(target: PathFacts, *, uid: int, given: str, where: str) -> Untrusted | None:
    if target.uid != uid:
        return Untrusted(
            f"{where} belongs to uid {target.uid}, not to you (uid {uid}): "
            "another user could have written what renewer would read",
            f"mv {shlex.quote(given)} {shlex.quote(given + '.untrusted')}"
            "  # renewer makes a new one",
        )
    if target.mode & _WRITABLE_BY_OTHERS:
        private = "700" if stat.S_ISDIR(target.mode) else "600"
        return Untrusted(
            f"{where} is writable by others (mode {_mode(target)})",
            f"chmod {private} {shlex.quote(target.path)}",
        )
    return None


def _judge_parent(
    parent: PathFacts, *, uid: int, where: str, unmapped: int | None
) -> Untrusted | None:
    if parent.uid not in {uid, 0} and parent.uid != unmapped:
        return Untrusted(
            f"{where} is inside {parent.path}, which belongs to uid {parent.uid}", _ELSEWHERE
        )
    if parent.mode & _WRITABLE_BY_OTHERS and not parent.mode & stat.S_ISVTX:
        fix = f"chmod go-w {shlex.quote(parent.path)}" if parent.uid == uid else _ELSEWHERE
        return Untrusted(
            f"{where} is inside {parent.path}, which others may write "
            f"(mode {_mode(parent)}, no sticky bit)",
            fix,
        )
    return None
