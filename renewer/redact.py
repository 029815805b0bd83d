"""Last line of defence against secrets in output: a registry of known values.

Secrets are kept out of messages by construction (values drop token ids,
secret-holding types have redacting reprs, errors name paths and accessors).
This module catches what construction misses: every secret value renewer
loads (a token read from a file, a minted token, a client secret, an access
token) is registered here, and every line renewer prints or logs passes
through :func:`scrub`, which masks any registered value and anything shaped
like a Vault token. Registration is process-local and cheap; values shorter
than 6 characters are not registered (they would mask ordinary words).

"Every line renewer prints" is enforced at the edge: the CLI's entry point
puts :class:`ScrubbingText` around stdout and stderr for the whole command,
so a ``click.echo`` that forgets to scrub cannot leak either. Text is
scrubbed a line at a time (a secret never spans lines); bytes written to
the streams' ``buffer`` (``creds call`` prints a service's answer as it
came) are scrubbed per write by :func:`scrub_bytes`.
"""

from __future__ import annotations

import io
import re
import sys
import threading
from typing import Any, TextIO

MASK = "[redacted]"
_MIN_LENGTH = 6
_VAULT_TOKEN = re.compile(r"\b(?:hvs|hvb|hvr|s|b|r)\.[A-Za-z0-9_-]{20,}")

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None
_bytes_pattern: re.Pattern[bytes] | None = None
_VAULT_TOKEN_BYTES = re.compile(_VAULT_TOKEN.pattern.encode())


def register(*values: str | bytes | None) -> None:
    """Remember secret *values* so :func:`scrub` masks them wherever they appear."""
    global _pattern, _bytes_pattern  # noqa: PLW0603 - one process-wide registry, on purpose
    added = False
    with _lock:
        for value in values:
            if value is None:
                continue
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            text = text.strip()
            if len(text) >= _MIN_LENGTH and text not in _known:
                _known.add(text)
                added = True
        if added:
            ordered = sorted(_known, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(value) for value in ordered))
            _bytes_pattern = re.compile(b"|".join(re.escape(v.encode()) for v in ordered))


def scrub(text: str) -> str:
    """*text* with every registered secret and every Vault-token-shaped word masked."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return _VAULT_TOKEN.sub(MASK, text)


def holds_secret(text: str) -> bool:
    """True when *text* contains a registered secret or a Vault-token-shaped word."""
    return scrub(text) != text


def print_secret(text: str) -> None:
    """Write *text* to stdout past the scrubber: only for a command whose answer IS the secret.

    A Vault token helper's ``get`` (``renewer token-helper get``) and ``login-token``
    print a token for the caller to use; everything else goes through :class:`ScrubbingText`.
    Made printable like every line a command writes (renewer.output); a token is
    printable already, so it stays exact.
    """
    from renewer.core.printable import printable

    stream = sys.stdout
    stream.flush()
    raw = getattr(stream, "unscrubbed", stream)
    raw.write(printable(text, keep_newlines=True))
    raw.flush()


def scrub_bytes(data: bytes) -> bytes:
    """:func:`scrub` for bytes: every registered secret (UTF-8) and Vault-token shape masked."""
    pattern = _bytes_pattern
    if pattern is not None:
        data = pattern.sub(MASK.encode(), data)
    return _VAULT_TOKEN_BYTES.sub(MASK.encode(), data)


def forget_all() -> None:
    """Clear the registry (tests start each case from nothing)."""
    global _pattern, _bytes_pattern  # noqa: PLW0603 - one process-wide registry, on purpose
    with _lock:
        _known.clear()
        _pattern = None
        _bytes_pattern = None


class ScrubbingBytes(io.RawIOBase):
    """A binary stream that writes every chunk through :func:`scrub_bytes`."""

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self._raw = raw

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._raw.write(scrub_bytes(chunk))
        return len(chunk)

    def flush(self) -> None:
        self._raw.flush()


class ScrubbingText(io.TextIOBase):
    """A text stream that writes whole lines through :func:`scrub`; see the module docstring.

    A partial line waits for its newline, or for :meth:`flush` (a prompt).
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self.unscrubbed = stream  # for print_secret() alone
        self._pending = ""
        raw = getattr(stream, "buffer", None)
        self.buffer = ScrubbingBytes(raw) if raw is not None else None

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._pending += text
        if "\n" in self._pending:
            lines, _, self._pending = self._pending.rpartition("\n")
            self._stream.write(scrub(lines + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, ""
            self._stream.write(scrub(pending))
        self._stream.flush()
