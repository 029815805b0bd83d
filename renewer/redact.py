"""Last line of defence against secrets in output: a registry of known values.

Secrets are kept out of messages by construction (values drop token ids,
secret-holding types have redacting reprs, errors name paths and accessors).
This module catches what construction misses: every secret value renewer
loads (a token read from a file, a minted token, a client secret, an access
token) is registered here, and every line renewer prints or logs passes
through :func:`scrub`, which masks any registered value and anything shaped
like a Vault token. Registration is process-local and cheap; values shorter
than 6 characters are not registered (they would mask ordinary words).
"""

from __future__ import annotations

import re
import threading

MASK = "[redacted]"
_MIN_LENGTH = 6
_VAULT_TOKEN = re.compile(r"\b(?:hvs|hvb|hvr|s|b|r)\.[A-Za-z0-9_-]{20,}")

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(*values: str | bytes | None) -> None:
    """Remember secret *values* so :func:`scrub` masks them wherever they appear."""
    global _pattern  # noqa: PLW0603 - one process-wide registry, on purpose
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


def scrub(text: str) -> str:
    """*text* with every registered secret and every Vault-token-shaped word masked."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return _VAULT_TOKEN.sub(MASK, text)


def holds_secret(text: str) -> bool:
    """True when *text* contains a registered secret or a Vault-token-shaped word."""
    return scrub(text) != text


def forget_all() -> None:
    """Clear the registry (tests start each case from nothing)."""
    global _pattern  # noqa: PLW0603 - one process-wide registry, on purpose
    with _lock:
        _known.clear()
        _pattern = None
