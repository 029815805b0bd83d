"""The configuration: YAML → validated, frozen values. The sole reader of config and env.

Where the file is: ``--config``, else ``$RENEWER_CONFIG``, else
``$XDG_CONFIG_HOME/renewer/config.yaml`` (``~/.config/renewer/config.yaml``).
Every error names the file, the line and the key, and says what is expected
(exit 78). Durations are parsed once, here. Environment variables are read
here and nowhere else: ``VAULT_ADDR`` and ``VAULT_CACERT`` (else OpenBao's
``BAO_ADDR`` and ``BAO_CACERT``) are defaults for ``vault.addr`` and
``vault.ca_cert``; the effective source is recorded so it can be logged.
``VAULT_TOKEN`` is deliberately never read for the token sinks: the files are
what renewer doubts and repairs.

The package holds one concern a module: :mod:`.schema` (what the file may
say), :mod:`.model` (the frozen values), :mod:`.env` (paths and environment),
:mod:`.load` (the order of a load), :mod:`.tokens` and :mod:`.rotations` (the
sections whose checks span entries). Import the names from here.
"""

from __future__ import annotations

from renewer.config.env import (
    default_config_path,
    default_login,
    expand_path,
    vault_token_from_env,
    xdg_dir,
)
from renewer.config.load import build_config, load_config
from renewer.config.model import (
    DEFAULT_CHECK_TIMEOUT,
    DEFAULT_GRACE,
    DEFAULT_RETRY_AFTER,
    Config,
    NotifySettings,
    RotationSpec,
    RotationType,
    RunSettings,
    TokenSink,
    VaultSettings,
)
from renewer.config.schema import CONFIG_VERSION, DURATION_PATTERN, NAME_PATTERN, SCHEMA

__all__ = [
    "CONFIG_VERSION",
    "DEFAULT_CHECK_TIMEOUT",
    "DEFAULT_GRACE",
    "DEFAULT_RETRY_AFTER",
    "DURATION_PATTERN",
    "NAME_PATTERN",
    "SCHEMA",
    "Config",
    "NotifySettings",
    "RotationSpec",
    "RotationType",
    "RunSettings",
    "TokenSink",
    "VaultSettings",
    "build_config",
    "default_config_path",
    "default_login",
    "expand_path",
    "load_config",
    "vault_token_from_env",
    "xdg_dir",
]
