"""The validated configuration as frozen values: what the rest of renewer is handed.

Its own room so that the many readers of a ``Config`` (run, check, status, the
token, credential and rotation features) depend on plain dataclasses, not on
the YAML parsing and cross-field checks that build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from renewer.core.model import MintSpec, SweepMode, TokenSpec
from renewer.core.retry import RetrySettings
from renewer.credentials.spec import CredentialsSection
from renewer.errors import ConfigError
from renewer.rotation.schedule import Schedule
from renewer.yamlmarks import Document


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
    credentials: CredentialsSection = field(default_factory=CredentialsSection)
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
