"""A login that wrote the sink's file while a heal was minting: kept, never dropped.

A heal reads the file, mints with the authority it found, checks the minted
token, then replaces the file. A ``vault login`` (or a token helper whose
lock wait ran out) may write the file in between; replacing it blindly would
throw that fresh login token away, and the person who just logged in would
have to log in again. So the heal takes a snapshot of the file's bytes before
it mints and compares right before it writes: if the file changed and now
holds a token, that token is set aside as the sink's kept login token (as
the token helper does, ``renewer token-helper login-token`` prints it) before
the file is replaced, and the heal's line says so.

The remaining window is the few microseconds between the comparison and the
rename; closing it would need the writer's cooperation (the token helper's
lock), which a plain ``vault login`` does not give.
"""

from __future__ import annotations

from pathlib import Path

from renewer.config import Config, TokenSink
from renewer.core.secret import Secret
from renewer.errors import RenewerError
from renewer.files import read_small_file
from renewer.tokens.tokenfile import MAX_TOKEN_BYTES, read_token

USE_LOGIN_ONCE = "VAULT_TOKEN=$(renewer token-helper login-token) vault …"


def snapshot(path: Path) -> bytes | None:
    """The file's bytes now; None when there is no regular file to read."""
    try:
        return read_small_file(path, max_bytes=MAX_TOKEN_BYTES).content
    except OSError:
        return None


def written_meanwhile(sink: TokenSink, before: bytes | None) -> Secret | None:
    """The token someone else wrote to *sink*'s file since *before*; None if nobody did.

    A change that is not a token of this user's (removed, garbage, a symlink)
    holds nothing to keep: the heal replaces it as it always did.
    """
    if snapshot(sink.path) in (before, None):
        return None
    try:
        return read_token(sink.path, sink=sink.name).token
    except RenewerError:
        return None


def keep_login(config: Config, sink: TokenSink, login: Secret) -> str:
    """Set *login* aside for *sink*; the words for the heal's line.

    Raises :class:`renewer.errors.StateUnwritable` when it cannot be kept: the
    caller then must not replace the file.
    """
    from renewer.tokens import kept  # kept → run → tokens: imported when needed

    path = kept.keep(config, sink.name, kept.Kind.LOGIN, login)
    return (
        f"{sink.path} was written while the heal ran (a login?): that token is kept "
        f"in {path}, use it once: {USE_LOGIN_ONCE}"
    )
