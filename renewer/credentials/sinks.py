"""Sinks: the files other tools read a credential from, written atomically and 0600.

Two types (product.md §3, "like certbot deploy hooks"):

* ``file``: the raw value (an access token, an API key), no trailing newline;
  ``value`` is a template, by default the primitive's natural value;
* ``env``: ``NAME=value`` lines for ``EnvironmentFile=`` or ``set -a; . file``.
  A value outside a conservative character set is single-quoted; a value
  holding a quote, a newline or a control character cannot be written so
  that every reader agrees on it, and is refused.

:func:`render_sink` is pure. :func:`needs_write` compares with the file on
disk (content and mode), so unchanged sinks are never rewritten and hooks
run only when something changed. A sink path that is a symlink is refused
rather than replaced: someone pointed it elsewhere on purpose.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from renewer.credentials.spec import SinkSpec
from renewer.errors import CredentialError
from renewer.files import (
    SECRET_FILE_MODE,
    UnsafeFile,
    ensure_private_dir,
    read_small_file,
    write_atomic,
)
from renewer.template import TemplateError, Values, render

MAX_SINK_BYTES = 1 << 20
_SAFE = re.compile(r"^[A-Za-z0-9_./:@%+=,~-]*$")
_QUOTABLE = re.compile(r"^[^'\x00-\x1f\x7f]*$")


@dataclass(frozen=True, slots=True)
class SinkContent:
    """What one sink should contain."""

    path: Path
    type: str
    data: bytes = field(repr=False)


def quote_env(value: str) -> str:
    """*value* as the right-hand side of ``NAME=``; ``ValueError`` when it cannot be."""
    if _SAFE.match(value):
        return value
    if _QUOTABLE.match(value):
        return f"'{value}'"
    raise ValueError("holds a quote, a newline or a control character")


def render_sink(
    spec: SinkSpec, values: Values, *, credential: str, default_value: str
) -> SinkContent:
    """Render *spec* with *values*; a missing or unwritable value is a ``CredentialError``."""
    try:
        if spec.type == "file":
            data = render(spec.value or default_value, values).encode()
        else:
            lines = [f"# written by renewer for credential {credential}; changes are overwritten"]
            for name, template in spec.vars.items():
                try:
                    lines.append(f"{name}={quote_env(render(template, values))}")
                except ValueError as exc:
                    if isinstance(exc, TemplateError):
                        raise
                    raise CredentialError(
                        f"{credential}: cannot write {name} to {spec.path}: the value {exc}"
                    ) from None
            data = ("\n".join(lines) + "\n").encode()
    except TemplateError as exc:
        raise CredentialError(
            f"{credential}: sink {spec.path}: {exc}",
            hint="check the sink's template against the recipe's required_secrets",
        ) from None
    return SinkContent(path=spec.path, type=spec.type, data=data)


def needs_write(content: SinkContent) -> bool:
    """True when the file is missing, different, or not 0600."""
    try:
        facts = read_small_file(content.path, max_bytes=MAX_SINK_BYTES)
    except FileNotFoundError:
        return True
    except UnsafeFile as exc:
        raise CredentialError(
            f"sink {content.path} {exc.strerror}; refusing to replace it",
            hint="point the sink at a regular file (not a symlink) in the config",
        ) from None
    except OSError:
        return True  # unreadable (e.g. mode 000): rewriting fixes it, or fails with a message
    return facts.content != content.data or stat.S_IMODE(facts.mode) != SECRET_FILE_MODE


def write_sink(content: SinkContent) -> None:
    """Replace the sink file atomically, 0600; its directory is made 0700 if missing."""
    try:
        if not content.path.parent.exists():
            ensure_private_dir(content.path.parent)
        write_atomic(content.path, content.data)
    except OSError as exc:
        raise CredentialError(
            f"cannot write sink {content.path}: {exc.strerror or exc}",
            hint="check the directory exists and is writable by this user",
        ) from None
