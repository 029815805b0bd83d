"""Reading the config file: locate, parse, validate (with a cache), then build a ``Config``.

Its own room: the order of a load and the settings that need no cross-field
checks (vault, run, notify, metrics). Token sinks and rotations, whose checks
span entries, are built in :mod:`renewer.config.tokens` and
:mod:`renewer.config.rotations`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from renewer.config.env import (
    default_config_path,
    effective_environ,
    expand_path,
    home_dir,
    xdg_dir,
)
from renewer.config.model import Config, NotifySettings, RunSettings, VaultSettings
from renewer.config.rotations import check_rotations, check_static_rotations, parse_rotation
from renewer.config.schema import SCHEMA
from renewer.config.tokens import check_unique_sinks, parse_token_sink
from renewer.core.duration import parse_duration
from renewer.core.retry import RetrySettings
from renewer.credentials import schema as credentials_schema
from renewer.credentials import section as credentials_section
from renewer.errors import ConfigError
from renewer.files import ensure_private_dir
from renewer.yamlmarks import Document, load_file
from renewer.yamlschema import validate


def load_config(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and build the configuration; raise ``ConfigError`` (exit 78)."""
    env = effective_environ(environ)
    source = path if path is not None else default_config_path(env)
    document = load_file(source, error=ConfigError)
    if document.data is None:
        raise ConfigError(
            f"{source}: the file is empty", hint="start from the example in the README"
        )
    if isinstance(document.data, dict):
        # `vault:` with every line under it commented out means "the defaults".
        for key in (
            "vault",
            "run",
            "metrics",
            "notify",
            "tokens",
            "rotations",
            *credentials_schema.SCHEMA,
        ):
            if key in document.data and document.data[key] is None:
                del document.data[key]
    if not _validated_before(document, env):
        validate(document, SCHEMA, error=ConfigError)
        _remember_valid(document, env)
    return build_config(document, source=source, environ=env)


def _validation_marker(document: Document, environ: Mapping[str, str]) -> Path:
    """A cache entry named after this config's content, the schema and renewer's version.

    Validating with jsonschema costs ~60 ms of imports on every run (the timer,
    a shell banner); the content it validated does not change between runs.
    A marker per content digest lets an unchanged file skip it; any edit, schema
    change or upgrade validates again. The cross-field checks always run.
    """
    from renewer import __version__

    digest = hashlib.sha256()
    for part in (__version__, json.dumps(SCHEMA, sort_keys=True), document.text):
        digest.update(part.encode())
        digest.update(b"\0")
    source = hashlib.sha256(document.source.encode()).hexdigest()[:16]
    directory = xdg_dir(environ, "XDG_CACHE_HOME", ".cache") / "validated"
    return directory / f"{source}-{digest.hexdigest()}"


def _validated_before(document: Document, environ: Mapping[str, str]) -> bool:
    return bool(document.text) and _validation_marker(document, environ).exists()


def _remember_valid(document: Document, environ: Mapping[str, str]) -> None:
    if not home_dir(environ).is_dir():
        return  # never create someone's home directory for a cache
    marker = _validation_marker(document, environ)
    try:
        ensure_private_dir(marker.parent)  # ~/.cache too, if missing: 0700, whatever the umask
        for older in marker.parent.glob(marker.name.split("-", 1)[0] + "-*"):
            older.unlink(missing_ok=True)  # one marker per config file
        marker.touch(mode=0o600)
    except OSError:
        pass  # a read-only home only costs the validation time again


def build_config(document: Document, *, source: Path, environ: Mapping[str, str]) -> Config:
    """Turn a schema-valid *document* into a :class:`Config`; cross-field checks here."""
    data: dict[str, Any] = document.data
    home = home_dir(environ)
    base = source.parent

    def resolve(text: str) -> Path:
        path = expand_path(text, home)
        return path if path.is_absolute() else (base / path)

    vault = _vault_settings(document, data.get("vault", {}), environ, resolve)
    tokens = tuple(
        parse_token_sink(document, index, item, resolve, environ)
        for index, item in enumerate(data.get("tokens", []))
    )
    check_unique_sinks(document, tokens)
    rotations = tuple(
        parse_rotation(document, index, item, resolve)
        for index, item in enumerate(data.get("rotations", []))
    )
    check_rotations(document, rotations, tokens)
    credentials = credentials_section.parse(document, environ=dict(environ), home=str(home))
    check_static_rotations(document, rotations, credentials)
    run = data.get("run", {})
    notify = data.get("notify", {})
    metrics = data.get("metrics", {})
    state_dir = (
        resolve(data["state_dir"])
        if "state_dir" in data
        else xdg_dir(environ, "XDG_STATE_HOME", ".local/state")
    )
    return Config(
        source=source,
        vault=vault,
        tokens=tokens,
        state_dir=state_dir,
        config_dir=xdg_dir(environ, "XDG_CONFIG_HOME", ".config"),
        data_dir=xdg_dir(environ, "XDG_DATA_HOME", ".local/share"),
        home=home,
        run=RunSettings(
            deadline=parse_duration(run.get("deadline", 60)),
            lock_timeout=parse_duration(run.get("lock_timeout", 30)),
            interval=parse_duration(run.get("interval", "1d")),
            # int(): JSON Schema accepts 8.0 as an integer, YAML reads it as a float
            sweep_concurrency=int(run.get("sweep_concurrency", 8)),
            sweep_max_accessors=int(run.get("sweep_max_accessors", 200_000)),
            retry=_retry_settings(document, run.get("retry", {})),
        ),
        notify=NotifySettings(
            webhook=notify.get("webhook"), timeout=parse_duration(notify.get("timeout", 10))
        ),
        metrics_textfile=resolve(metrics["textfile"]) if "textfile" in metrics else None,
        rotations=rotations,
        credentials=credentials,
        document=document,
    )


def _retry_settings(document: Document, section: Mapping[str, Any]) -> RetrySettings:
    """``run.retry``: each key falls back to its default; the first delay must be at least 1s."""
    defaults = RetrySettings()
    first = parse_duration(section.get("first", defaults.first))
    if first < 1:
        raise ConfigError(
            f"{document.where(('run', 'retry', 'first'))}: must be at least 1s, got 0 "
            "(a retry at once would loop)"
        )
    return RetrySettings(
        first=first,
        max_delay=max(first, parse_duration(section.get("max_delay", defaults.max_delay))),
        attempts=int(section.get("attempts", defaults.attempts)),
    )


def _vault_settings(
    document: Document, section: Mapping[str, Any], environ: Mapping[str, str], resolve: Any
) -> VaultSettings:
    if "addr" in section:
        addr, addr_source = section["addr"], "config"
    elif variable := _first_set(environ, "VAULT_ADDR", "BAO_ADDR"):
        addr, addr_source = environ[variable], f"${variable}"
    else:
        addr, addr_source = "", "unset"
    if addr:
        _check_addr(
            document, addr, addr_source, allow_http=bool(section.get("allow_insecure_http"))
        )
    ca_variable = _first_set(environ, "VAULT_CACERT", "BAO_CACERT")
    ca_text = section.get("ca_cert") or (environ[ca_variable] if ca_variable else None)
    return VaultSettings(
        addr=addr.rstrip("/"),
        addr_source=addr_source,
        ca_cert=resolve(ca_text) if ca_text else None,
        connect_timeout=float(parse_duration(section.get("connect_timeout", 3))),
        read_timeout=float(parse_duration(section.get("read_timeout", 10))),
    )


def _first_set(environ: Mapping[str, str], *names: str) -> str | None:
    """The first variable of *names* set to a non-empty value.

    The vault CLI's names come first; the bao CLI reads its ``BAO_`` names (and
    falls back to the ``VAULT_`` ones), so a shell set up for either works.
    """
    return next((name for name in names if environ.get(name)), None)


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _check_addr(document: Document, addr: str, source: str, *, allow_http: bool) -> None:
    where = (
        document.where(("vault", "addr")) if source == "config" else f"{document.source}: {source}"
    )
    parts = urlsplit(addr)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"{where}: expected a URL like https://vault.example.com:8200, got {addr!r}"
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS and not allow_http:
        raise ConfigError(
            f"{where}: {addr} is plain http to another host: "
            "tokens would cross the network in clear",
            hint="use https, or set vault.allow_insecure_http: true if you really mean it",
        )
