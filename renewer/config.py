"""The configuration: YAML → validated, frozen values. The only reader of config and env.

Where the file is: ``--config``, else ``$RENEWER_CONFIG``, else
``$XDG_CONFIG_HOME/renewer/config.yaml`` (``~/.config/renewer/config.yaml``).
Every error names the file, the line and the key, and says what is expected
(exit 78). Durations are parsed once, here. Environment variables are read
here and nowhere else: ``VAULT_ADDR`` and ``VAULT_CACERT`` (else OpenBao's
``BAO_ADDR`` and ``BAO_CACERT``) are defaults for ``vault.addr`` and
``vault.ca_cert``; the effective source is recorded so it can be logged.
``VAULT_TOKEN`` is deliberately never read for the token sinks: the files are
what renewer doubts and repairs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from renewer.core.duration import parse_duration
from renewer.core.model import MintSpec, SweepMode, TokenSpec
from renewer.core.naming import vault_display_name
from renewer.core.owner import RESERVED_PREFIX
from renewer.core.retry import RetrySettings
from renewer.credentials import spec as credentials_spec
from renewer.errors import ConfigError
from renewer.files import ensure_private_dir
from renewer.rotation.hooks import CHECK_PLACEHOLDERS, HOOK_PLACEHOLDERS, check_argv
from renewer.rotation.schedule import Schedule, ScheduleError, check_cron, zone
from renewer.yamlmarks import Document, load_file, validate

CONFIG_VERSION = 1
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
DURATION_PATTERN = r"^\s*(\d+|(\d+[smhd])+)\s*$"

_NAME = {
    "type": "string",
    "pattern": NAME_PATTERN,
    "x-message": "expected a name of letters, digits, '.', '_' or '-'",
}
_DURATION = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": DURATION_PATTERN},
    ],
    "x-message": "expected a duration like 768h, 32d, 1h30m or 90 (seconds)",
}
_POLICIES = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_PATH = {"type": "string", "minLength": 1}
_ROTATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "type"],
    "properties": {
        "name": _NAME,
        "type": {"enum": ["vault-token", "approle", "static"]},
        "token": _NAME,
        "credential": _NAME,
        "field": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9_-]+$",
            "x-message": "expected a field name of the credential's secret",
        },
        "webhook": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url", "kind"],
            "properties": {
                "url": {
                    "type": "string",
                    "pattern": "^https?://",
                    "x-message": "expected an http(s) URL",
                },
                "kind": {"enum": ["github", "slack"]},
            },
        },
        "hook": {
            "type": "object",
            "additionalProperties": False,
            "required": ["command"],
            "properties": {
                "command": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1},
                    "minItems": 1,
                },
                "template": _PATH,
                "timeout": _DURATION,
            },
        },
        "register": {
            "type": "object",
            "additionalProperties": False,
            "required": ["credential"],
            "properties": {"credential": _NAME},
        },
        "schedule": {"type": "string", "minLength": 1},
        "timezone": {"type": "string", "minLength": 1},
        "every": _DURATION,
        "grace": _DURATION,
        "retry_after": _DURATION,
        "check": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "check_timeout": _DURATION,
        "role": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$",
            "x-message": "expected an AppRole role name",
        },
        "mount": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$",
            "x-message": "expected an auth mount path like approle",
        },
        "role_id_file": _PATH,
        "secret_id_file": _PATH,
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {"const": CONFIG_VERSION, "x-message": f"expected version: {CONFIG_VERSION}"},
        "vault": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "addr": {"type": "string", "minLength": 1},
                "ca_cert": {"type": "string", "minLength": 1},
                "connect_timeout": _DURATION,
                "read_timeout": _DURATION,
                "allow_insecure_http": {"type": "boolean"},
            },
        },
        "state_dir": {"type": "string", "minLength": 1},
        "run": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "deadline": _DURATION,
                "lock_timeout": _DURATION,
                "interval": _DURATION,
                "sweep_concurrency": {"type": "integer", "minimum": 1, "maximum": 64},
                "sweep_max_accessors": {"type": "integer", "minimum": 1},
                "retry": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "first": _DURATION,
                        "max_delay": _DURATION,
                        "attempts": {"type": "integer", "minimum": 0, "maximum": 100},
                    },
                },
            },
        },
        "tokens": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "path", "expect", "mint"],
                "properties": {
                    "name": _NAME,
                    "path": {"type": "string", "minLength": 1},
                    "expect": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["display_name", "policies"],
                        "properties": {
                            "display_name": {"type": "string", "minLength": 1},
                            "policies": _POLICIES,
                        },
                    },
                    "mint": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["display_name", "policies", "period"],
                        "properties": {
                            "display_name": {"type": "string", "minLength": 1},
                            "policies": _POLICIES,
                            "period": _DURATION,
                            "explicit_max_ttl": _DURATION,
                            "meta": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    },
                    "sweep": {"enum": [mode.value for mode in SweepMode]},
                    "login": {"type": "string", "minLength": 1, "pattern": r"^[^\n]*$"},
                },
            },
        },
        "metrics": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"textfile": {"type": "string", "minLength": 1}},
        },
        "notify": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "webhook": {
                    "type": "string",
                    "pattern": "^https?://",
                    "x-message": "expected an http(s) URL",
                },
                "timeout": _DURATION,
            },
        },
        "rotations": {"type": "array", "items": _ROTATION},
        **credentials_spec.SCHEMA,
    },
}


@dataclass(frozen=True, slots=True)
class VaultSettings:
    """How to reach Vault. Every value is passed to hvac explicitly."""

    addr: str
    addr_source: str  # "config", "$VAULT_ADDR", "$BAO_ADDR" or "unset": logged, never a secret
    ca_cert: Path | None
    connect_timeout: float = 3.0
    read_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class TokenSink:
    """One token file renewer keeps alive (config ``tokens[]``)."""

    name: str
    path: Path
    expect: TokenSpec
    mint: MintSpec
    sweep: SweepMode = SweepMode.ON_HEAL
    login: str = "vault login -method=oidc"  # what a person runs to get an authority token


class RotationType(Enum):
    """What a rotation rotates (config ``rotations[].type``)."""

    VAULT_TOKEN = "vault-token"  # the periodic token of a token sink
    APPROLE = "approle"  # an AppRole secret-id, written to a file
    STATIC = "static"  # one field of a credential's secret (webhook signing secrets...)


DEFAULT_GRACE = 86400  # a day: long enough for every reader of the old value to re-read
DEFAULT_RETRY_AFTER = 86400  # a failed cycle is retried a day later (or at the next fire)
DEFAULT_CHECK_TIMEOUT = 60


@dataclass(frozen=True, slots=True)
class RotationSpec:
    """One blue/green rotation (config ``rotations[]``)."""

    name: str
    type: RotationType
    token: str  # vault-token: the sink rotated; approle: the sink whose token is the authority
    schedule: Schedule = field(default_factory=Schedule)
    grace: int = DEFAULT_GRACE
    retry_after: int = DEFAULT_RETRY_AFTER
    check: tuple[str, ...] = ()  # argv template run against green before promotion
    check_timeout: int = DEFAULT_CHECK_TIMEOUT
    role: str = ""  # approle only
    mount: str = "approle"
    role_id_file: Path | None = None
    secret_id_file: Path | None = None
    credential: str = ""  # static only: the credential whose secret holds the field
    field: str = "secret"  # static only
    webhook_url: str = ""  # static only: a receiver for a signed test webhook
    webhook_kind: str = ""  # "github" or "slack"
    hook: tuple[str, ...] = ()  # static only: argv run after each change, with {manifest}
    hook_template: Path | None = None  # the manifest template (string.Template: ${current}...)
    hook_timeout: int = DEFAULT_CHECK_TIMEOUT
    register_credential: str = ""  # static only: register new values with the platform, as this


@dataclass(frozen=True, slots=True)
class RunSettings:
    """Bounds of one run: nothing waits forever."""

    deadline: int = 60
    lock_timeout: int = 30
    # How often the timer runs renewer (the shipped one: daily). `status` judges
    # expiries against the next run: the timer's elapse, else the last run + this.
    interval: int = 86400
    sweep_concurrency: int = 8
    sweep_max_accessors: int = 200_000
    # after exit 75 under systemd: backoff of renewer-retry@.timer (renewer.core.retry)
    retry: RetrySettings = field(default_factory=RetrySettings)


@dataclass(frozen=True, slots=True)
class NotifySettings:
    webhook: str | None = None
    timeout: int = 10


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration."""

    source: Path
    vault: VaultSettings
    tokens: tuple[TokenSink, ...]
    state_dir: Path
    config_dir: Path
    data_dir: Path
    home: Path
    run: RunSettings = RunSettings()
    notify: NotifySettings = NotifySettings()
    metrics_textfile: Path | None = None
    rotations: tuple[RotationSpec, ...] = ()
    credentials: credentials_spec.CredentialsSection = field(
        default_factory=credentials_spec.CredentialsSection
    )
    document: Document | None = field(default=None, repr=False, compare=False)

    def token(self, name: str) -> TokenSink:
        """The token sink called *name*; a clear error when there is none."""
        for sink in self.tokens:
            if sink.name == name:
                return sink
        known = ", ".join(sink.name for sink in self.tokens) or "none configured"
        raise ConfigError(
            f"{self.source}: no token sink named {name!r} (known: {known})",
            hint="check the name under tokens: in the config",
        )

    def rotation(self, name: str) -> RotationSpec:
        """The rotation called *name*; a clear error when there is none."""
        for rotation in self.rotations:
            if rotation.name == name:
                return rotation
        known = ", ".join(rotation.name for rotation in self.rotations) or "none configured"
        raise ConfigError(
            f"{self.source}: no rotation named {name!r} (known: {known})",
            hint="check the name under rotations: in the config",
        )


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def xdg_dir(env: Mapping[str, str], variable: str, fallback: str) -> Path:
    """``$XDG_…/renewer`` or ``~/<fallback>/renewer``."""
    base = env.get(variable)
    if base and os.path.isabs(base):
        return Path(base) / "renewer"
    return _home(env) / fallback / "renewer"


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$RENEWER_CONFIG``, else ``$XDG_CONFIG_HOME/renewer/config.yaml``."""
    env = _environ(environ)
    explicit = env.get("RENEWER_CONFIG")
    if explicit:
        return expand_path(explicit, _home(env))
    return xdg_dir(env, "XDG_CONFIG_HOME", ".config") / "config.yaml"


def expand_path(text: str, home: Path) -> Path:
    """``~`` and ``~/x`` against *home*; relative paths stay relative to the config's directory."""
    if text == "~":
        return home
    if text.startswith("~/"):
        return home / text[2:]
    return Path(text)


def vault_token_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """``$VAULT_TOKEN``: only ever the *authority* for ``renewer mint``, never a sink."""
    value = _environ(environ).get("VAULT_TOKEN", "").strip()
    return value or None


def load_config(path: Path | None = None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and build the configuration; raise ``ConfigError`` (exit 78)."""
    env = _environ(environ)
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
            *credentials_spec.SCHEMA,
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
    if not _home(environ).is_dir():
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
    home = _home(environ)
    base = source.parent

    def resolve(text: str) -> Path:
        path = expand_path(text, home)
        return path if path.is_absolute() else (base / path)

    vault = _vault_settings(document, data.get("vault", {}), environ, resolve)
    tokens = tuple(
        _token_sink(document, index, item, resolve, environ)
        for index, item in enumerate(data.get("tokens", []))
    )
    _check_unique(document, tokens)
    rotations = tuple(
        _rotation(document, index, item, resolve)
        for index, item in enumerate(data.get("rotations", []))
    )
    _check_rotations(document, rotations, tokens)
    credentials = credentials_spec.parse(document, environ=dict(environ), home=str(home))
    _check_static_rotations(document, rotations, credentials)
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


def default_login(environ: Mapping[str, str]) -> str:
    """The login command recovery hints print: the Vault CLI on PATH (``vault``, else ``bao``)."""
    path = environ.get("PATH", os.defpath)
    cli = (
        "bao"
        if shutil.which("vault", path=path) is None and shutil.which("bao", path=path)
        else "vault"
    )
    return f"{cli} login -method=oidc"


def _token_sink(
    document: Document,
    index: int,
    item: Mapping[str, Any],
    resolve: Any,
    environ: Mapping[str, str],
) -> TokenSink:
    mint_data = item["mint"]
    expect = TokenSpec(
        display_name=item["expect"]["display_name"],
        policies=frozenset(name.strip().lower() for name in item["expect"]["policies"]),
        period=parse_duration(mint_data["period"]),
    )
    mint = MintSpec(
        display_name=mint_data["display_name"],
        policies=tuple(sorted({name.strip().lower() for name in mint_data["policies"]})),
        period=parse_duration(mint_data["period"]),
        explicit_max_ttl=parse_duration(mint_data.get("explicit_max_ttl", 0)),
        meta=dict(mint_data.get("meta", {})),
    )
    where = ("tokens", index)
    reserved = sorted(key for key in mint.meta if key.startswith(RESERVED_PREFIX))
    if reserved:
        raise ConfigError(
            f"{document.where((*where, 'mint', 'meta'))}: {', '.join(reserved)}: keys starting "
            f"with {RESERVED_PREFIX!r} are renewer's owner marks and cannot be set here",
            hint="rename the key",
        )
    if mint.period <= 0:
        raise ConfigError(
            f"{document.where((*where, 'mint', 'period'))}: the period must be more than 0"
        )
    minted_name = vault_display_name(mint.display_name)
    if minted_name != expect.display_name:
        raise ConfigError(
            f"{document.where((*where, 'expect', 'display_name'))}: a token minted with "
            f"display name {mint.display_name!r} is reported by Vault as {minted_name!r}, "
            f"not {expect.display_name!r}; every heal would be rejected",
            hint=f"set expect.display_name: {minted_name}",
        )
    missing = sorted(expect.policies - set(mint.policies))
    if missing:
        raise ConfigError(
            f"{document.where((*where, 'mint', 'policies'))}: the minted token would lack "
            f"expected policies {', '.join(missing)}; every heal would be rejected",
            hint="add them to mint.policies or remove them from expect.policies",
        )
    return TokenSink(
        name=item["name"],
        path=resolve(item["path"]),
        expect=expect,
        mint=mint,
        sweep=SweepMode(item.get("sweep", SweepMode.ON_HEAL.value)),
        login=item.get("login") or default_login(environ),
    )


def _check_unique(document: Document, tokens: tuple[TokenSink, ...]) -> None:
    names: set[str] = set()
    paths: set[Path] = set()
    for index, sink in enumerate(tokens):
        if sink.name in names:
            raise ConfigError(
                f"{document.where(('tokens', index, 'name'))}: duplicate token name {sink.name!r}"
            )
        if sink.path in paths:
            raise ConfigError(
                f"{document.where(('tokens', index, 'path'))}: "
                f"{sink.path} is already another token's file"
            )
        names.add(sink.name)
        paths.add(sink.path)


_APPROLE_ONLY = ("role", "mount", "role_id_file", "secret_id_file")


def _schedule(
    document: Document, where: tuple[str | int, ...], item: Mapping[str, Any]
) -> Schedule:
    """``schedule`` + ``timezone``, or ``every``, or neither (by hand only)."""
    if "schedule" in item and "every" in item:
        raise ConfigError(
            f"{document.where((*where, 'every'))}: give either schedule (cron) or every, not both"
        )
    if "timezone" in item and "schedule" not in item:
        raise ConfigError(
            f"{document.where((*where, 'timezone'))}: a timezone only applies to a schedule"
        )
    if "schedule" in item:
        if "timezone" not in item:
            raise ConfigError(
                f"{document.where((*where, 'schedule'))}: a schedule needs a timezone",
                hint="add e.g. `timezone: Asia/Tokyo` (an IANA name; UTC is fine too)",
            )
        for key, check in (("schedule", check_cron), ("timezone", zone)):
            try:
                check(item[key])
            except ScheduleError as exc:
                raise ConfigError(f"{document.where((*where, key))}: {exc}") from None
        return Schedule(cron=item["schedule"], timezone=item["timezone"])
    if "every" in item:
        every = parse_duration(item["every"])
        if every <= 0:
            raise ConfigError(f"{document.where((*where, 'every'))}: must be more than 0")
        return Schedule(every=every)
    return Schedule()


def _rotation(
    document: Document, index: int, item: Mapping[str, Any], resolve: Any
) -> RotationSpec:
    where: tuple[str | int, ...] = ("rotations", index)
    kind = RotationType(item["type"])
    _check_type_keys(document, where, kind, item)
    if kind is RotationType.VAULT_TOKEN:
        for key in _APPROLE_ONLY:
            if key in item:
                raise ConfigError(
                    f"{document.where((*where, key))}: only for type: approle "
                    "(a vault-token rotation rotates the token sink named by token:)"
                )
    elif kind is RotationType.APPROLE:
        for key in ("role", "secret_id_file"):
            if key not in item:
                raise ConfigError(
                    f"{document.where(where)}: an approle rotation needs {key}:",
                    hint="see docs/rotation.md for an example",
                )
    if "check" in item:
        try:
            check_argv(item["check"], CHECK_PLACEHOLDERS)
        except ValueError as exc:
            raise ConfigError(f"{document.where((*where, 'check'))}: {exc}") from None
    hook = item.get("hook", {})
    if "command" in hook:
        try:
            check_argv(hook["command"], HOOK_PLACEHOLDERS)
        except ValueError as exc:
            raise ConfigError(f"{document.where((*where, 'hook', 'command'))}: {exc}") from None
    webhook = item.get("webhook", {})
    grace = parse_duration(item.get("grace", DEFAULT_GRACE))
    if grace <= 0:
        raise ConfigError(
            f"{document.where((*where, 'grace'))}: must be more than 0: the old credential "
            "has to outlive the switch, so whatever read it just before can finish and re-read",
            hint="a day is typical (grace: 24h); a few seconds only for a demo",
        )
    return RotationSpec(
        name=item["name"],
        type=kind,
        token=item.get("token", ""),
        schedule=_schedule(document, where, item),
        grace=grace,
        retry_after=parse_duration(item.get("retry_after", DEFAULT_RETRY_AFTER)),
        check=tuple(item.get("check", ())),
        check_timeout=parse_duration(item.get("check_timeout", DEFAULT_CHECK_TIMEOUT)),
        role=item.get("role", ""),
        mount=item.get("mount", "approle"),
        role_id_file=resolve(item["role_id_file"]) if "role_id_file" in item else None,
        secret_id_file=resolve(item["secret_id_file"]) if "secret_id_file" in item else None,
        credential=item.get("credential", ""),
        field=item.get("field", "secret"),
        webhook_url=webhook.get("url", ""),
        webhook_kind=webhook.get("kind", ""),
        hook=tuple(hook.get("command", ())),
        hook_template=resolve(hook["template"]) if "template" in hook else None,
        hook_timeout=parse_duration(hook.get("timeout", DEFAULT_CHECK_TIMEOUT)),
        register_credential=item.get("register", {}).get("credential", ""),
    )


_STATIC_ONLY = ("credential", "field", "webhook", "hook", "register")


def _check_type_keys(
    document: Document, where: tuple[str | int, ...], kind: RotationType, item: Mapping[str, Any]
) -> None:
    """Keys that only make sense for another type are mistakes worth naming."""
    if kind is RotationType.STATIC:
        if "token" in item:
            raise ConfigError(
                f"{document.where((*where, 'token'))}: a static rotation rotates a credential's "
                "secret (credential:), not a token sink"
            )
        if "credential" not in item:
            raise ConfigError(
                f"{document.where(where)}: a static rotation needs credential:",
                hint="credential: names an entry under credentials: whose secret holds the field",
            )
        if "webhook" not in item and "check" not in item:
            raise ConfigError(
                f"{document.where(where)}: a static rotation needs webhook: or check: to "
                "validate the new value before it is promoted",
                hint="see docs/rotation.md for both",
            )
        return
    if "token" not in item:
        raise ConfigError(
            f"{document.where(where)}: a {kind.value} rotation needs token:",
            hint="token: names an entry under tokens:",
        )
    for key in _STATIC_ONLY:
        if key in item:
            raise ConfigError(f"{document.where((*where, key))}: only for type: static")


def _check_rotations(
    document: Document, rotations: tuple[RotationSpec, ...], tokens: tuple[TokenSink, ...]
) -> None:
    """Names unique, authorities configured, one rotation per target, files never shared."""
    sinks = {sink.name: sink for sink in tokens}
    names: set[str] = set()
    rotated: set[str] = set()
    files: dict[Path, str] = {sink.path: f"token sink {sink.name!r}" for sink in tokens}
    for index, rotation in enumerate(rotations):
        where: tuple[str | int, ...] = ("rotations", index)
        if rotation.name in names:
            raise ConfigError(
                f"{document.where((*where, 'name'))}: duplicate rotation name {rotation.name!r}"
            )
        names.add(rotation.name)
        if rotation.type is RotationType.STATIC:
            continue  # checked against credentials: in _check_static_rotations
        sink = sinks.get(rotation.token)
        if sink is None:
            known = ", ".join(sinks) or "none configured"
            raise ConfigError(
                f"{document.where((*where, 'token'))}: no token sink named {rotation.token!r} "
                f"(known: {known})",
                hint="token: names an entry under tokens:",
            )
        if rotation.type is RotationType.VAULT_TOKEN:
            _check_token_rotation(document, where, rotation, sink, rotated)
            continue
        for key in ("secret_id_file", "role_id_file"):
            path = getattr(rotation, key)
            if path is None:
                continue
            if path in files:
                raise ConfigError(
                    f"{document.where((*where, key))}: {path} is already {files[path]}'s file"
                )
            files[path] = f"rotation {rotation.name!r}"


def _check_static_rotations(
    document: Document,
    rotations: tuple[RotationSpec, ...],
    credentials: credentials_spec.CredentialsSection,
) -> None:
    """A static rotation names a configured credential; one rotation per credential field."""
    known = {spec.name for spec in credentials.credentials}
    rotated: set[tuple[str, str]] = set()
    for index, rotation in enumerate(rotations):
        if rotation.type is not RotationType.STATIC:
            continue
        where: tuple[str | int, ...] = ("rotations", index)
        if rotation.credential not in known:
            raise ConfigError(
                f"{document.where((*where, 'credential'))}: no credential named "
                f"{rotation.credential!r} (known: {', '.join(sorted(known)) or 'none configured'})",
                hint="credential: names an entry under credentials:",
            )
        if rotation.register_credential and rotation.register_credential not in known:
            raise ConfigError(
                f"{document.where((*where, 'register', 'credential'))}: no credential named "
                f"{rotation.register_credential!r} (known: {', '.join(sorted(known))})",
                hint="register.credential names the credential new values are registered as "
                "(a token that may change the webhook)",
            )
        target = (rotation.credential, rotation.field)
        if target in rotated:
            raise ConfigError(
                f"{document.where((*where, 'field'))}: {rotation.credential}'s {rotation.field} "
                "already has a rotation; one rotation per credential (max_parallel: 1)"
            )
        rotated.add(target)


def _check_token_rotation(
    document: Document,
    where: tuple[str | int, ...],
    rotation: RotationSpec,
    sink: TokenSink,
    rotated: set[str],
) -> None:
    if sink.name in rotated:
        raise ConfigError(
            f"{document.where((*where, 'token'))}: token sink {sink.name!r} already has a "
            "rotation; one rotation per credential (max_parallel: 1)"
        )
    rotated.add(sink.name)
    if rotation.grace >= sink.mint.period:
        raise ConfigError(
            f"{document.where((*where, 'grace'))}: a grace of {rotation.grace}s is not shorter "
            f"than the token's period ({sink.mint.period}s): nobody renews the old token "
            "during its grace, so it would expire before it is revoked",
            hint="shorten grace: (a day is typical)",
        )
