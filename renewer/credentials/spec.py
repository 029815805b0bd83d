"""The credential feature's configuration as frozen values: what a ``credentials[]`` entry is.

Read by the runner, the handle, sinks, hooks and status; built from the
config file by :mod:`renewer.credentials.section` against the schema in
:mod:`renewer.credentials.schema`. Its own room so those readers depend on
plain values, not on the parsing. Reference: ``docs/credentials.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from renewer.core.refresh import DEFAULT_FRACTION
from renewer.errors import ConfigError
from renewer.secretstore.base import SecretRef

DEFAULT_HOOK_TIMEOUT = 60


class TestPolicy(Enum):
    """When a credential's recipe test runs during ``renewer run``."""

    AFTER_REFRESH = "after-refresh"  # when what the sinks get has changed (a refresh, a new key)
    ALWAYS = "always"
    NEVER = "never"

    __test__ = False  # not a pytest test class, despite the name


@dataclass(frozen=True, slots=True)
class LocalStoreSettings:
    dir: Path
    key_file: Path


@dataclass(frozen=True, slots=True)
class VaultStoreSettings:
    mount: str = "secret"
    prefix: str = "renewer"
    token: str | None = None  # the token sink whose token reads and writes the KV mount


def _default_local() -> LocalStoreSettings:
    home = Path.home()
    return LocalStoreSettings(
        dir=home / ".local/share/renewer/store", key_file=home / ".config/renewer/store.key"
    )


@dataclass(frozen=True, slots=True)
class SecretsSettings:
    default_store: str = "local"
    local: LocalStoreSettings = field(default_factory=_default_local)
    vault: VaultStoreSettings = field(default_factory=VaultStoreSettings)


@dataclass(frozen=True, slots=True)
class RecipeSettings:
    dirs: tuple[Path, ...] = ()
    allow_domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SinkSpec:
    """Where a credential's current value is written (see ``renewer.credentials.sinks``)."""

    type: str  # one of SINK_TYPES
    path: Path
    value: str | None = None  # file: a template; None = the primitive's default
    vars: Mapping[str, str] = field(default_factory=dict)  # env: NAME → template
    profile: str = ""  # aws_profile: the section to write


@dataclass(frozen=True, slots=True)
class PkiSettings:
    """``pki:``: renew the credential's client certificate from Vault PKI."""

    role: str
    common_name: str
    token: str  # the token sink whose (renewed) token may update <mount>/issue/<role>
    mount: str = "pki"
    alt_names: tuple[str, ...] = ()
    ip_sans: tuple[str, ...] = ()
    ttl: int | None = None  # None: the role's default


@dataclass(frozen=True, slots=True)
class HookSpec:
    """A command run after a credential's sinks changed."""

    command: tuple[str, ...] | str  # a string only with shell: true
    shell: bool = False
    timeout: int = DEFAULT_HOOK_TIMEOUT

    def describe(self) -> str:
        return self.command if isinstance(self.command, str) else " ".join(self.command)


@dataclass(frozen=True, slots=True)
class CredentialSpec:
    """One ``credentials[]`` entry."""

    name: str
    recipe: str
    secret: SecretRef
    store: str = "local"
    refresh_at: float = DEFAULT_FRACTION
    test: TestPolicy = TestPolicy.AFTER_REFRESH
    sinks: tuple[SinkSpec, ...] = ()
    hooks: tuple[HookSpec, ...] = ()
    pki: PkiSettings | None = None


@dataclass(frozen=True, slots=True)
class CredentialsSection:
    """Everything the primitive layer needs from the config."""

    credentials: tuple[CredentialSpec, ...] = ()
    secrets: SecretsSettings = field(default_factory=SecretsSettings)
    recipes: RecipeSettings = field(default_factory=RecipeSettings)

    def credential(self, name: str) -> CredentialSpec:
        """The credential called *name*; a clear ``ConfigError`` when there is none."""
        for spec in self.credentials:
            if spec.name == name:
                return spec
        known = ", ".join(spec.name for spec in self.credentials) or "none configured"
        raise ConfigError(
            f"no credential named {name!r} (known: {known})",
            hint="see `renewer creds list`; credentials are configured under credentials:",
        )


def vault_token_sink(section: CredentialsSection, token_names: list[str]) -> str | None:
    """The token sink the vault store uses: the configured one, else the only one."""
    if section.secrets.vault.token is not None:
        return section.secrets.vault.token
    return token_names[0] if len(token_names) == 1 else None
