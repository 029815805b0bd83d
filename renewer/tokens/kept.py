"""Tokens the CLI token helper set aside instead of dropping: a login's, an erased one.

When a login is healed, the sink gets our periodic token and the login's own
token would be gone; when a script calls the helper's ``erase``, the sink's
token would be gone. Neither is dropped without a trace: each is written,
0600 and atomically, to ``<data dir>/kept/<sink>.login`` or
``<sink>.erased`` (``~/.local/share/renewer/kept/`` by default, beside the
local secret store: these are secrets, the state dir holds none), and
``renewer token-helper login-token`` / ``restore`` bring them back. One file
per sink and kind: the newest login replaces the previous one.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from renewer.config import Config, TokenSink
from renewer.core.outcome import ItemResult, Outcome
from renewer.core.secret import Secret
from renewer.errors import StateUnwritable, TokenFileError
from renewer.files import ensure_private_dir, fsync_directory, write_atomic
from renewer.lock import run_lock
from renewer.run import write_metrics
from renewer.state import record_items
from renewer.tokens.tokenfile import read_token, write_token


class Kind(Enum):
    LOGIN = "login"  # a login's token, kept when the sink got our periodic token instead
    ERASED = "erased"  # what the sink held when the CLI's helper was told to erase it


@dataclass(frozen=True, slots=True)
class KeptToken:
    token: Secret
    path: Path
    kept_at: float  # the file's mtime: when it was set aside


def kept_dir(config: Config) -> Path:
    return config.data_dir / "kept"


def kept_path(config: Config, sink: str, kind: Kind) -> Path:
    return kept_dir(config) / f"{sink}.{kind.value}"


def keep(config: Config, sink: str, kind: Kind, token: Secret) -> Path:
    """Set *token* aside for *sink*; :class:`StateUnwritable` when it cannot be written."""
    path = kept_path(config, sink, kind)
    try:
        ensure_private_dir(path.parent)
        write_atomic(path, token.reveal().encode("ascii"))
    except OSError as exc:
        raise StateUnwritable(
            f"cannot keep the {kind.value} token in {path}: {exc.strerror or exc}",
            hint=f"free space or fix the permissions of {path.parent}",
        ) from None
    return path


def read_kept(config: Config, sink: str, kind: Kind) -> KeptToken:
    """The token kept for *sink*; :class:`TokenFileError` when there is none."""
    path = kept_path(config, sink, kind)
    if not path.exists():
        what = "no login token was kept" if kind is Kind.LOGIN else "no erased token was kept"
        raise TokenFileError(
            f"{what} for {sink} ({path} does not exist)",
            hint="the token helper keeps one when a login is healed or the CLI erases a token",
        )
    token_file = read_token(path, sink=sink)
    return KeptToken(token_file.token, path, path.stat().st_mtime)


def forget(config: Config, sink: str, kind: Kind) -> None:
    path = kept_path(config, sink, kind)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
        fsync_directory(path.parent)


def erase(config: Config, sink: TokenSink, *, wait: float) -> str:
    """The helper's ``erase``: empty the sink, set its token aside; the line for the person.

    Neither CLI calls ``erase`` in a command of its own (vault and bao only
    define it; ``vault login -no-store`` once used it); scripts and people
    call it to log out. So the CLI stops finding a token, as asked, but the
    token (our periodic one, usually) is kept and ``restore`` puts it back.
    """
    with run_lock(config.state_dir, timeout=wait):
        if not sink.path.exists() and not sink.path.is_symlink():
            return f"nothing to erase: {sink.path} does not exist"
        current = read_token(sink.path, sink=sink.name)
        aside = keep(config, sink.name, Kind.ERASED, current.token)
        sink.path.unlink()
        fsync_directory(sink.path.parent)
        summary = (
            f"ERASED {sink.name}: the CLI's token helper erased {sink.path}; its token is kept "
            f"in {aside}; put it back with `renewer token-helper restore`"
        )
        _record(config, ItemResult("token", sink.name, Outcome.WARNING, "token.erased", summary))
    return summary


def restore(config: Config, sink: TokenSink, *, wait: float) -> str:
    """Put the erased token back into an empty sink."""
    with run_lock(config.state_dir, timeout=wait):
        erased = read_kept(config, sink.name, Kind.ERASED)
        if sink.path.exists() or sink.path.is_symlink():
            raise TokenFileError(
                f"{sink.path} holds a token again (a login since the erase?); it was left as it "
                f"is, and the erased token stays in {erased.path}",
                hint=f"`renewer status` shows what {sink.name} holds now",
            )
        write_token(sink.path, erased.token)
        forget(config, sink.name, Kind.ERASED)
        summary = f"RESTORED {sink.name}: {sink.path} holds the token erased earlier again"
        _record(config, ItemResult("token", sink.name, Outcome.OK, "token.restored", summary))
    return summary


def _record(config: Config, result: ItemResult) -> None:
    """``status`` shows what the helper did to the sink (run under the lock)."""
    now = time.time()
    write_metrics(config, record_items(config.state_dir, [result], at=now), now=now)
