"""The results a token sink reports: details, failures, and the recovery command."""

from __future__ import annotations

from renewer.config import TokenSink
from renewer.core.model import TokenInfo
from renewer.core.outcome import Detail, ItemResult, Outcome, outcome_for_exit_code
from renewer.errors import (
    HealRejected,
    ReauthRequired,
    RenewerError,
    TokenFileError,
    VaultUnavailable,
)


def recovery_command(sink: TokenSink) -> str:
    return f"vault login -method=oidc && renewer mint {sink.name}"


def token_details(info: TokenInfo, now: float) -> dict[str, Detail]:
    return {
        "display_name": info.display_name,
        "accessor": info.accessor,
        "policies": ",".join(sorted(info.policies)),
        "ttl": info.ttl,
        "period": info.period,
        "expires_at": round(now + info.ttl) if info.ttl else None,
    }


def failure(sink: TokenSink, error: RenewerError, **details: Detail) -> ItemResult:
    """A result for an error that stopped this sink."""
    if isinstance(error, TokenFileError):
        event, word = "token.file_invalid", "FAIL"
    elif isinstance(error, ReauthRequired):
        event, word = "token.invalid", "EXPIRED"
        if not error.hint:
            error.hint = f"log in again and re-mint: {recovery_command(sink)}"
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
