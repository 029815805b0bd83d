"""What one credential's pass came to, as an ``ItemResult``: the event, the sentence, the details.

Its own room: the runner does the work and records it in :class:`Done`; the
words a person reads in the log, ``status`` and the failure notice (with the
fixing command in the sentence itself) are chosen here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from renewer.core.outcome import Detail, ItemResult, Outcome, outcome_for_exit_code
from renewer.credentials.handle import Credential
from renewer.credentials.sinks import SinkContent
from renewer.errors import CredentialReauthRequired, HookFailed, RenewerError
from renewer.primitives.base import CredentialState, TestResult
from renewer.redact import scrub

KIND = "credential"


@dataclass
class Done:
    """What happened to one credential so far."""

    refreshed: bool = False
    tested: TestResult | None = None
    written: list[SinkContent] = field(default_factory=list)
    hooks: int = 0


def success_result(
    credential: Credential, state: CredentialState, done: Done, *, warning: str = ""
) -> ItemResult:
    """The item's result when it got through: the most telling event, then what else happened."""
    expires = credential.primitive.expires_at(state)
    details: dict[str, Detail] = {
        "refreshed": done.refreshed,
        "tested": done.tested is not None,
        "sinks_written": len(done.written),
        "hooks_run": done.hooks,
        "expires_at": expires,
        "refreshes_after_expiry": credential.primitive.refreshes_after_expiry(state),
        "recipe": credential.recipe.service,
    }
    name = credential.name
    if done.refreshed:
        event, outcome = "credential.refreshed", Outcome.OK
        summary = f"{name}: refreshed" + _expiry_words(expires, credential.http.now())
    elif done.written:
        event, outcome = "sink.written", Outcome.OK
        summary = f"{name}: wrote {len(done.written)} sink(s)"
    elif done.tested is not None:
        event, outcome = "credential.tested", Outcome.OK
        summary = f"{name}: test passed"
    elif done.hooks:
        event, outcome = "hook.ran", Outcome.OK
        summary = f"{name}: nothing changed; retried the hooks that failed last time"
    else:
        event, outcome = "credential.unchanged", Outcome.UNCHANGED
        summary = f"{name}: nothing due" + _expiry_words(expires, credential.http.now())
    if done.tested is not None and event != "credential.tested":
        summary += ", test passed"
    if done.hooks and event != "hook.ran":
        summary += f", ran {done.hooks} hook(s)"
    if warning:
        details["warning"] = warning
        details["hint"] = credential.reauth_command
        event, outcome = "credential.expiring", Outcome.WARNING
        summary = f"{summary}; WARNING: {warning} (renew it: {credential.reauth_command})"
    return ItemResult(KIND, name, outcome, event, summary + ".", details)


def _expiry_words(expires_at: float | None, now: float) -> str:
    if expires_at is None:
        return ""
    from renewer.core.duration import format_ttl

    return f", valid for {format_ttl(int(expires_at - now))}"


def failure_result(name: str, error: RenewerError) -> ItemResult:
    """The item's result when it stopped on *error*; every text scrubbed of known secrets."""
    outcome = outcome_for_exit_code(error.exit_code)
    if isinstance(error, CredentialReauthRequired):
        event = "credential.reauth_required"
    elif isinstance(error, HookFailed):
        event = "hook.failed"
    else:
        event = "credential.failed"
    message = scrub(error.message.splitlines()[0] if error.message else type(error).__name__)
    # The fixing command is part of the sentence, so every renderer (console, journal,
    # status, the failure notice) shows it; sentence() adds the runbook's `see:`.
    summary = message.rstrip(".") + (f"; hint: {scrub(error.hint)}" if error.hint else "")
    return ItemResult(
        KIND,
        name,
        outcome,
        event,
        summary,
        {
            "error": type(error).__name__,
            "message": scrub(error.message),
            "hint": scrub(error.hint),
            "see": error.see,
        },
    )
