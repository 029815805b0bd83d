"""The checks that ask Vault, read-only: reachable and unsealed, then each token sink.

Each sink's token is looked up and put through the drift guard; on drift,
Vault is asked (``sys/capabilities-self``) whether ``renewer run`` could heal
it, so the line says what a run will do. Its own room: the only part of
``renewer check`` that talks to Vault.
"""

from __future__ import annotations

from pathlib import Path

from renewer.check.finding import Finding
from renewer.config import Config, TokenSink, vault_token_from_env
from renewer.core.drift import Verdict, check_drift
from renewer.core.duration import format_ttl
from renewer.core.heal import plan_heal
from renewer.core.model import TokenInfo
from renewer.errors import EXIT_NEEDS_HUMAN, EXIT_TEMPORARY, RenewerError
from renewer.tokens.forecast import forecast_heal
from renewer.tokens.results import recovery_command
from renewer.tokens.sink import shown
from renewer.tokens.tokenfile import read_token
from renewer.vault import HvacVault, VaultConnection


def check_vault(config: Config, connection: VaultConnection) -> Finding:
    subject = f"vault {config.vault.addr} (from {config.vault.addr_source})"
    try:
        health = connection.client(None).health()
    except RenewerError as error:
        return Finding("fail", subject, error.message, EXIT_TEMPORARY)
    if health.get("sealed"):
        return Finding("fail", subject, "Vault is sealed", EXIT_TEMPORARY)
    return Finding("ok", subject, f"reachable, version {health.get('version', '?')}")


def check_sink(config: Config, connection: VaultConnection, index: int, owner: str) -> Finding:
    sink = config.tokens[index]
    subject = f"token {sink.name} ({sink.path})"
    recovery = recovery_command(
        sink, home=config.home, vault_token_set=vault_token_from_env() is not None
    )
    try:
        token_file = read_token(sink.path, sink=sink.name, recovery=recovery)
        client = connection.client(token_file.token)
        info = client.lookup_self()
    except RenewerError as error:
        return Finding(
            "fail", subject, f"{error.message}; {error.hint}".rstrip("; "), error.exit_code
        )
    verdict = check_drift(info, sink.expect, owner=owner, sink=sink.name)
    if not verdict.ok:
        return _drift_finding(
            sink,
            subject,
            client=client,
            info=info,
            verdict=verdict,
            owner=owner,
            recovery=recovery,
            home=config.home,
        )
    if token_file.loose_mode:
        return Finding(
            "warn", subject, f"mode {token_file.mode:o}; the next run repairs it to 0600"
        )
    return Finding("ok", subject, f"ours ({info.display_name}), ttl {format_ttl(info.ttl)}")


def _drift_finding(
    sink: TokenSink,
    subject: str,
    *,
    client: HvacVault,
    info: TokenInfo,
    verdict: Verdict,
    owner: str,
    recovery: str,
    home: Path,
) -> Finding:
    """Drift: predict, read-only, whether ``renewer run`` will heal it (exit as it would)."""
    source = shown(sink.path, home)
    plan = plan_heal(sink.name, info, verdict, sink.mint, owner=owner, source=source)
    drift = f"drift: {verdict.explain()}"
    try:
        forecast = forecast_heal(client, plan)
    except RenewerError as error:
        return Finding("fail", subject, f"{drift}; {error.message}", error.exit_code)
    if forecast.allowed:
        return Finding(
            "warn",
            subject,
            f"{drift}; `renewer run` will heal it with the authority of {plan.authority()} "
            f"({forecast.reason})",
        )
    if forecast.allowed is None:
        return Finding(
            "warn",
            subject,
            f"{drift}; `renewer run --only {sink.name}` will try to heal it; {forecast.words()}",
        )
    return Finding(
        "fail",
        subject,
        f"{drift}; {forecast.words()}; the file would be left untouched. Recover: {recovery}",
        EXIT_NEEDS_HUMAN,
    )
