"""Where renewer's files are, from the environment: the package's only touch of ``os.environ``.

Its own room because paths and ambient variables are what every other part of
the package is handed, never reads: ``$HOME``, the XDG directories,
``$RENEWER_CONFIG``, ``$VAULT_TOKEN`` (only as ``renewer mint``'s authority)
and ``$PATH`` (which Vault CLI the recovery hints name). ``$VAULT_ADDR`` and
``$VAULT_CACERT`` are read from the mapping resolved here, in
:mod:`renewer.config.load`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path


def effective_environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    """The mapping a caller passed (tests do), else the process environment."""
    return os.environ if environ is None else environ


def home_dir(env: Mapping[str, str]) -> Path:
    """``$HOME`` from *env*, so a test's home is honoured; the account's home otherwise."""
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def xdg_dir(env: Mapping[str, str], variable: str, fallback: str) -> Path:
    """``$XDG_…/renewer`` or ``~/<fallback>/renewer``."""
    base = env.get(variable)
    if base and os.path.isabs(base):
        return Path(base) / "renewer"
    return home_dir(env) / fallback / "renewer"


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$RENEWER_CONFIG``, else ``$XDG_CONFIG_HOME/renewer/config.yaml``."""
    env = effective_environ(environ)
    explicit = env.get("RENEWER_CONFIG")
    if explicit:
        return expand_path(explicit, home_dir(env))
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
    value = effective_environ(environ).get("VAULT_TOKEN", "").strip()
    return value or None


def default_login(environ: Mapping[str, str]) -> str:
    """The login command recovery hints print: the Vault CLI on PATH (``vault``, else ``bao``)."""
    path = environ.get("PATH", os.defpath)
    cli = (
        "bao"
        if shutil.which("vault", path=path) is None and shutil.which("bao", path=path)
        else "vault"
    )
    return f"{cli} login -method=oidc"
