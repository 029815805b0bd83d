"""The results a token sink reports: details, failures, and the recovery command."""

from __future__ import annotations

from pathlib import Path

from renewer.config import TokenSink
from renewer.core.model import TokenInfo
from renewer.core.outcome import Detail, ItemResult, Outcome, outcome_for_exit_code
from renewer.core.renewal import RenewalVerdict, cap_advice
from renewer.errors import (
    HealRejected,
    ReauthRequired,
    RenewerError,
    TokenFileError,
    VaultUnavailable,
)

CLI_TOKEN_FILE = ".vault-token"  # where `vault login` / `bao login` store the token, in $HOME


def recovery_command(sink: TokenSink, *, home: Path, vault_token_set: bool = False) -> str:
    """The commands a person runs to give *sink* a token again: log in, then mint.

    The login is the sink's ``login:`` (default: the CLI on PATH, OIDC). The
    CLI stores its token in ``~/.vault-token``; ``renewer mint`` takes its
    authority from ``$VAULT_TOKEN`` first, so when that is set (it would win
    over the fresh login and fail again), or when the sink is another file,
    the hint names the login's file explicitly.
    """
    mint = f"renewer mint {sink.name}"
    if vault_token_set or sink.path != home / CLI_TOKEN_FILE:
        mint += f" --from-file ~/{CLI_TOKEN_FILE}"
    return f"{sink.login} && {mint}"


def cli_name(sink: TokenSink) -> str:
    """``vault`` or ``bao``: the CLI the sink's login command uses (for other hints)."""
    first = sink.login.split()[0] if sink.login.split() else "vault"
    return first if first in {"vault", "bao"} else "vault"


def cap_words(sink: TokenSink, verdict: RenewalVerdict) -> str:
    """Where a capped grant's ceiling comes from and what lifts it (``core.renewal``)."""
    return cap_advice(
        verdict,
        sink=sink.name,
        period=sink.mint.period,
        cli=cli_name(sink),
        explicit_from_config=bool(sink.mint.explicit_max_ttl),
    )


def token_details(info: TokenInfo, now: float) -> dict[str, Detail]:
    return {
        "display_name": info.display_name,
        "accessor": info.accessor,
        "policies": ",".join(sorted(info.policies)),
        "ttl": info.ttl,
        "period": info.period,
        "expires_at": round(now + info.ttl) if info.ttl else None,
    }


def failure(
    sink: TokenSink, error: RenewerError, *, recovery: str = "", **details: Detail
) -> ItemResult:
    """A result for an error that stopped this sink; *recovery* is the sink's login && mint."""
    if isinstance(error, TokenFileError):
        event, word = "token.file_invalid", "FAIL"
    elif isinstance(error, ReauthRequired):
        event, word = "token.invalid", "EXPIRED"
        # Always the sink's own words: translate() only knows a generic "renewer mint NAME".
        error.hint = f"log in again and re-mint: {recovery or f'renewer mint {sink.name}'}"
    elif isinstance(error, VaultUnavailable):
        event, word = "vault.unreachable", "UNREACHABLE"
    elif isinstance(error, HealRejected):
        event, word = "token.heal_failed", "HEAL FAILED"
    else:
        event, word = "token.failed", "FAIL"
    summary = f"{word} {sink.name}: {error.message}"
    if error.hint:
        summary += f"; {error.hint}"
    return ItemResult(
        kind="token",
        name=sink.name,
        outcome=outcome_for_exit_code(error.exit_code),
        event=event,
        summary=summary,
        details={"error": error.message, "see": error.see, **details},
    )


def with_note(result: ItemResult, note: str) -> ItemResult:
    if not note:
        return result
    outcome = Outcome.WARNING if result.outcome.rank < Outcome.WARNING.rank else result.outcome
    return ItemResult(
        kind=result.kind,
        name=result.name,
        outcome=outcome,
        event=result.event,
        summary=f"{result.summary} (warning: {note})",
        details={**result.details, "warning": note},
    )
