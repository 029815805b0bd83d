"""The ``tokens:`` section: each entry becomes a ``TokenSink``, checked so every heal can succeed.

Its own room: the checks here are about one feature (a minted token must be
reported by Vault exactly as ``expect:`` says, and no two sinks share a name
or a file), and they read nothing but the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from renewer.config.env import default_login
from renewer.config.model import TokenSink
from renewer.core.duration import parse_duration
from renewer.core.model import MintSpec, SweepMode, TokenSpec
from renewer.core.naming import vault_display_name
from renewer.core.owner import RESERVED_PREFIX
from renewer.errors import ConfigError
from renewer.yamlmarks import Document


def parse_token_sink(
    document: Document,
    index: int,
    item: Mapping[str, Any],
    resolve: Any,
    environ: Mapping[str, str],
) -> TokenSink:
    """``tokens[index]`` as a sink; refused when a heal could never pass its own ``expect:``."""
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


def check_unique_sinks(document: Document, tokens: tuple[TokenSink, ...]) -> None:
    """No two sinks share a name (commands address them by it) or a file (they would fight)."""
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
