"""Sinks: the files other tools read a credential from, written atomically and 0600.

Types (product.md §3, "like certbot deploy hooks"):

* ``file``: the raw value (an access token, an API key), no trailing newline;
  ``value`` is a template, by default the primitive's natural value;
* ``env``: ``NAME=value`` lines for ``EnvironmentFile=`` or ``set -a; . file``.
  A value outside a conservative character set is single-quoted; a value
  holding a quote, a line break of any kind (``\x85``, ``\u2028``… too) or a
  control character cannot be written so that every reader agrees on it,
  and is refused;
* ``aws_profile``: one ``[profile]`` of an AWS shared credentials file
  (``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``
  and, for session credentials, ``x_security_token_expires``, the key
  saml2aws and shell prompts read), every other byte of the file kept
  (:mod:`renewer.core.aws_profile`). The file is re-read and the profile
  merged again just before the atomic write, so an edit made meanwhile by
  another tool survives;
* ``pem_bundle``: an mtls credential's certificate, chain and key in one
  file: one atomic write, so a reader never sees a new certificate beside an
  old key;
* ``cert_dir``: the same set as separate files in a generation directory
  switched by one symlink rename (:mod:`renewer.credentials.certdir`).

:func:`render_sink` is pure (the current file's bytes are an argument for
``aws_profile``). :func:`needs_write` compares with what is on disk (content
and mode), so unchanged sinks are never rewritten and hooks run only when
something changed. A sink path that is a symlink is refused rather than
replaced: someone pointed it elsewhere on purpose.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from renewer import crashpoints
from renewer.core.aws_profile import ProfileFileError, set_profile
from renewer.credentials import certdir
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
_QUOTABLE = re.compile(r"^[^'\x00-\x1f\x7f-\x9f\u2028\u2029]*$")  # C0, DEL, C1, LS, PS


@dataclass(frozen=True, slots=True)
class SinkContent:
    """What one sink should contain.

    ``data`` is the whole file (for ``aws_profile``: as merged with the file
    read at render time); ``files`` the files of a ``cert_dir`` generation;
    ``entries`` the keys an ``aws_profile`` sink sets in ``profile``.
    """

    path: Path
    type: str
    data: bytes = field(repr=False)
    files: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)
    profile: str = ""
    entries: tuple[tuple[str, str], ...] = field(default=(), repr=False)


def quote_env(value: str) -> str:
    """*value* as the right-hand side of ``NAME=``; ``ValueError`` when it cannot be."""
    if _SAFE.match(value):
        return value
    if _QUOTABLE.match(value):
        return f"'{value}'"
    raise ValueError("holds a quote, a line break or a control character")


def render_sink(
    spec: SinkSpec,
    values: Values,
    *,
    credential: str,
    default_value: str,
    current: bytes | None = None,
) -> SinkContent:
    """Render *spec* with *values*; a missing or unwritable value is a ``CredentialError``.

    *current* is the file's present content, for ``aws_profile`` (None: no file yet).
    """
    if spec.type == "aws_profile":
        return _render_profile(spec, values, credential=credential, current=current)
    if spec.type in {"pem_bundle", "cert_dir"}:
        return _render_certificates(spec, values, credential=credential)
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


_PROFILE_KEYS = (
    ("aws_access_key_id", "aws_access_key_id"),
    ("aws_secret_access_key", "aws_secret_access_key"),
    ("aws_session_token", "aws_session_token"),
    ("x_security_token_expires", "aws_expiration"),
)


def _render_profile(
    spec: SinkSpec, values: Values, *, credential: str, current: bytes | None
) -> SinkContent:
    runtime = values.get("runtime", {})
    if not runtime.get("aws_access_key_id") or not runtime.get("aws_secret_access_key"):
        raise CredentialError(
            f"{credential}: sink {spec.path}: an aws_profile sink needs an AWS credential "
            "(service_account kind aws_sigv4)",
            hint="use a file or env sink for this credential",
        )
    entries = tuple((key, runtime[source]) for key, source in _PROFILE_KEYS if runtime.get(source))
    text = _profile_text(spec.path, current, credential)
    try:
        merged = set_profile(text, spec.profile, entries)
    except ProfileFileError as exc:
        raise CredentialError(
            f"{credential}: sink {spec.path}: {exc}; the file was not changed",
            hint=f"fix {spec.path} by hand (botocore cannot read it either)",
        ) from None
    return SinkContent(
        path=spec.path,
        type=spec.type,
        data=merged.encode(),
        profile=spec.profile,
        entries=entries,
    )


def _profile_text(path: Path, current: bytes | None, credential: str) -> str:
    if current is None:
        return ""
    try:
        return current.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialError(
            f"{credential}: sink {path} is not UTF-8 text; the file was not changed",
            hint=f"fix {path} by hand",
        ) from None


def _render_certificates(spec: SinkSpec, values: Values, *, credential: str) -> SinkContent:
    runtime = values.get("runtime", {})
    cert, key = runtime.get("client_cert", ""), runtime.get("client_key", "")
    if not cert or not key:
        raise CredentialError(
            f"{credential}: sink {spec.path}: a {spec.type} sink needs a client certificate "
            "and its key (an mtls credential that has one)",
            hint=f"renewer creds set {credential}",
        )
    chain = runtime.get("ca_chain", "")
    if spec.type == "pem_bundle":
        return SinkContent(path=spec.path, type=spec.type, data=(cert + chain + key).encode())
    files = [("cert.pem", cert.encode()), ("key.pem", key.encode())]
    files.append(("fullchain.pem", (cert + chain).encode()))
    if chain:
        files.append(("chain.pem", chain.encode()))
    return SinkContent(path=spec.path, type=spec.type, data=b"", files=tuple(sorted(files)))


def sink_content(
    spec: SinkSpec, values: Values, *, credential: str, default_value: str
) -> SinkContent:
    """:func:`render_sink`, with the current file read for an ``aws_profile`` sink."""
    current = _read_current(spec.path) if spec.type == "aws_profile" else None
    return render_sink(
        spec, values, credential=credential, default_value=default_value, current=current
    )


def _read_current(path: Path) -> bytes | None:
    try:
        return read_small_file(path, max_bytes=MAX_SINK_BYTES).content
    except FileNotFoundError:
        return None
    except UnsafeFile as exc:
        raise CredentialError(
            f"sink {path} {exc.strerror}; refusing to replace it",
            hint="point the sink at a regular file (not a symlink) in the config",
        ) from None
    except OSError as exc:
        raise CredentialError(
            f"cannot read sink {path}: {exc.strerror or exc}; the file was not changed",
            hint="check the file's owner and mode",
        ) from None


def needs_write(content: SinkContent) -> bool:
    """True when the file (or the cert_dir generation) is missing, different, or not 0600."""
    if content.type == "cert_dir":
        try:
            return not certdir.is_current(content.path, dict(content.files))
        except certdir.NotOurs as exc:
            raise CredentialError(
                f"sink {exc}; refusing to replace it",
                hint="point the cert_dir sink at a directory renewer alone writes",
            ) from None
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


def write_sink(content: SinkContent, *, credential: str = "") -> None:
    """Replace the sink atomically, 0600; its directory is made 0700 if missing."""
    try:
        if not content.path.parent.exists():
            ensure_private_dir(content.path.parent)
        if content.type == "cert_dir":
            certdir.write_generation(content.path, dict(content.files))
        else:
            write_atomic(content.path, _final_data(content, credential))
        crashpoints.reached(f"sink.{content.type}.written")
    except certdir.NotOurs as exc:
        raise CredentialError(
            f"sink {exc}; refusing to replace it",
            hint="point the cert_dir sink at a directory renewer alone writes",
        ) from None
    except OSError as exc:
        raise CredentialError(
            f"cannot write sink {content.path}: {exc.strerror or exc}",
            hint="check the directory exists and is writable by this user",
        ) from None


def _final_data(content: SinkContent, credential: str) -> bytes:
    """An aws_profile merged again with the file as it is now (another tool may have written)."""
    if content.type != "aws_profile":
        return content.data
    text = _profile_text(content.path, _read_current(content.path), credential)
    try:
        return set_profile(text, content.profile, content.entries).encode()
    except ProfileFileError as exc:
        raise CredentialError(
            f"{credential}: sink {content.path}: {exc}; the file was not changed",
            hint=f"fix {content.path} by hand (botocore cannot read it either)",
        ) from None
