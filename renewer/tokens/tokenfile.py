"""Token files: read one without trusting it, replace one atomically.

A token file is a sink other tools read (``~/.vault-token`` for the Vault
CLI). Reading refuses anything that is not plainly one token: a missing or
empty file, a symlink, a directory or device, more than 4 KiB, bytes that are
not printable ASCII, several lines. Such a file is reported and never
rewritten (it may be someone's data). A file readable by group or others is
repaired to 0600 with a warning; a file owned by another user is refused.
Writing goes through :func:`renewer.files.write_atomic`, without a trailing
newline, as the Vault CLI writes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from renewer.core.secret import Secret
from renewer.errors import TokenFileError
from renewer.files import SECRET_FILE_MODE, UnsafeFile, read_small_file, write_atomic
from renewer.redact import register

MAX_TOKEN_BYTES = 4096
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class TokenFile:
    """A token read from a sink, and what was noticed about the file."""

    path: Path
    token: Secret = field(repr=False)
    mode: int = SECRET_FILE_MODE

    @property
    def loose_mode(self) -> bool:
        return bool(self.mode & 0o077)


def _login_and_mint(name: str, recovery: str) -> str:
    return recovery or f"vault login -method=oidc && renewer mint {name}"


def _recovery_hint(name: str, recovery: str) -> str:
    return f"log in and mint: {_login_and_mint(name, recovery)}"


def _unsafe_hint(path: Path, name: str, recovery: str, what: str) -> str:
    """A recovery that works for a path that is not a regular file.

    Moving it aside alone is not enough: ``renewer mint`` then needs an
    authority, so the hint either mints from the link's target (when that is
    a regular file: the token the link pointed at) or logs in first.
    """
    aside = f"mv {path} {path}.aside"
    if what == "is a symbolic link":
        target = path.resolve()
        if target.is_file():
            return (
                f"renewer never writes through a link. If the link is deliberate, set the "
                f"sink's path: to {target}; otherwise make it a file again: "
                f"{aside} && renewer mint {name} --from-file {target}"
            )
    return f"look at what is at {path}, then: {aside} && {_login_and_mint(name, recovery)}"


def read_token(path: Path, *, sink: str, recovery: str = "") -> TokenFile:
    """Read the token in *path* for the sink called *sink*; raise ``TokenFileError``.

    *recovery* is the sink's full recovery command (login && mint), for hints.
    """
    try:
        facts = read_small_file(path, max_bytes=MAX_TOKEN_BYTES)
    except FileNotFoundError:
        raise TokenFileError(
            f"{path}: no token file", hint=_recovery_hint(sink, recovery)
        ) from None
    except UnsafeFile as exc:
        raise TokenFileError(
            f"{path}: {exc.strerror}; renewer only reads a regular file holding one token",
            hint=_unsafe_hint(path, sink, recovery, str(exc.strerror)),
        ) from None
    except PermissionError:
        raise TokenFileError(
            f"{path}: permission denied", hint=f"check the owner and mode of {path}"
        ) from None
    except OSError as exc:
        raise TokenFileError(f"{path}: cannot read: {exc.strerror}") from None
    if facts.uid != os.geteuid():
        raise TokenFileError(
            f"{path}: owned by uid {facts.uid}, not by this user; refusing to use it",
            hint=f"find out who wrote {path}; renewer only manages your own token files",
        )
    token = _parse(path, facts.content, sink, recovery)
    return TokenFile(path=path, token=Secret(token), mode=facts.mode)


def _parse(path: Path, content: bytes, sink: str, recovery: str) -> str:
    if content.startswith(_BOM):
        content = content[len(_BOM) :]
    text = content.strip()
    if not text:
        raise TokenFileError(f"{path}: the file is empty", hint=_recovery_hint(sink, recovery))
    if any(byte < 0x20 or byte > 0x7E for byte in text if byte not in b"\r\n\t "):
        raise TokenFileError(
            f"{path}: does not hold a token (binary or non-ASCII content)",
            hint=f"look at what wrote {path}; the file was left as it is",
        )
    if len(text.split()) != 1:
        raise TokenFileError(
            f"{path}: holds several words or lines, not one token",
            hint=f"look at what wrote {path}; the file was left as it is",
        )
    token = text.decode("ascii")
    register(token)
    return token


def repair_mode(token_file: TokenFile) -> None:
    """Make a loosely readable token file 0600 again."""
    os.chmod(token_file.path, SECRET_FILE_MODE, follow_symlinks=False)


def write_token(path: Path, token: Secret) -> None:
    """Replace *path* with *token*: temp 0600 + fsync + rename + dir fsync."""
    if path.is_symlink():
        raise TokenFileError(
            f"{path}: is a symbolic link; renewer will not replace it",
            hint=f"point the sink's path: at the file itself, not at {path}",
        )
    try:
        write_atomic(path, token.reveal().encode("ascii"))
    except OSError as exc:
        raise TokenFileError(
            f"{path}: cannot write the new token: {exc.strerror}; the old file is unchanged",
            hint=f"check free space and permissions in {path.parent}",
        ) from None
