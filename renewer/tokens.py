"""The token-sink shell: read, look up, guard, then renew, heal or fail — for one sink.

Decisions come from ``renewer.core`` (drift guard, heal plan, acceptance of
the minted token, renewal capping, ledger transitions, stale filter); this
module performs the I/O they call for, in the order that keeps every crash
recoverable (product.md §1.2, seed 003):

* healthy  → ``renew-self``; a capped renewal is a warning with the lifetime left;
* drift    → mint with the clobbering token's authority; Vault's denial is the
  judge (→ ``token.drift``, file untouched, exit 1); the minted token is looked
  up with itself and must pass the guard (else revoked, ``token.heal_failed``);
  ledger updated before the file is replaced atomically; then the sweep. The
  clobbering token is never revoked: it may back a live login.

Every public function returns an :class:`ItemResult`; errors of one sink never
reach another.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from renewer import crashpoints
from renewer.config import Config, TokenSink
from renewer.core import ledger as ledger_core
from renewer.core.drift import check_drift
from renewer.core.duration import format_ttl
from renewer.core.heal import HealPlan, accept_minted, plan_heal
from renewer.core.model import AuthGrant, SweepMode, TokenInfo
from renewer.core.outcome import Detail, ItemResult, Outcome, outcome_for_exit_code
from renewer.core.renewal import check_renewal
from renewer.core.secret import Secret
from renewer.errors import (
    HealRejected,
    ReauthRequired,
    RenewerError,
    Temporary,
    TokenFileError,
    VaultDenied,
    VaultUnavailable,
)
from renewer.ledger import Ledger
from renewer.sweeper import SweepReport, full_scan, sweep_ledger
from renewer.tokenfile import read_token, repair_mode, write_token
from renewer.vault import HvacVault, VaultConnection


@dataclass
class TokenEnv:
    """What processing token sinks needs, built once per run."""

    config: Config
    connection: VaultConnection
    ledger: Ledger
    dry_run: bool = False
    wall_clock: Callable[[], float] = time.time
    time_left: Callable[[], float] = lambda: float("inf")
    notes: list[str] = field(default_factory=list)


def recovery_command(sink: TokenSink) -> str:
    return f"vault login -method=oidc && renewer mint {sink.name}"


def _token_details(info: TokenInfo, now: float) -> dict[str, Detail]:
    return {
        "display_name": info.display_name,
        "accessor": info.accessor,
        "policies": ",".join(sorted(info.policies)),
        "ttl": info.ttl,
        "period": info.period,
        "expires_at": round(now + info.ttl) if info.ttl else None,
    }


def _failure(sink: TokenSink, error: RenewerError, **details: Detail) -> ItemResult:
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


def process_sink(sink: TokenSink, env: TokenEnv) -> ItemResult:
    """One pass over one token sink; never raises a ``RenewerError``."""
    try:
        token_file = read_token(sink.path, sink=sink.name)
        mode_note = ""
        if token_file.loose_mode:
            mode_note = f"{sink.path} was readable by others (mode {token_file.mode:o})"
            if not env.dry_run:
                repair_mode(token_file)
                mode_note += "; repaired to 0600"
        client = env.connection.client(token_file.token)
        info = client.lookup_self()
        _reconcile(sink, env, info)
        verdict = check_drift(info, sink.expect)
        if verdict.ok:
            result = _renew(sink, env, client, info)
        else:
            result = heal(sink, env, client, plan_heal(sink.name, info, verdict, sink.mint))
        return _with_note(result, mode_note)
    except RenewerError as error:
        return _failure(sink, error)


def _with_note(result: ItemResult, note: str) -> ItemResult:
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


def _reconcile(sink: TokenSink, env: TokenEnv, info: TokenInfo) -> None:
    """Adopt or retire what an interrupted heal left in the ledger."""
    entry = env.ledger.get(sink.name)
    ours = info.display_name == sink.expect.display_name
    repaired = ledger_core.reconcile(entry, info.accessor if ours else "")
    if not env.dry_run:
        env.ledger.put(sink.name, repaired)


def _renew(sink: TokenSink, env: TokenEnv, client: HvacVault, info: TokenInfo) -> ItemResult:
    details = _token_details(info, env.wall_clock())
    if env.dry_run:
        return ItemResult(
            "token",
            sink.name,
            Outcome.OK,
            "token.plan",
            f"PLAN {sink.name}: would renew {info.display_name} (ttl {format_ttl(info.ttl)})",
            details,
        )
    grant = client.renew_self()
    verdict = check_renewal(
        expected=info.period or info.creation_ttl,
        granted=grant.lease_duration,
        warnings=grant.warnings,
    )
    entry = env.ledger.get(sink.name)
    env.ledger.put(sink.name, ledger_core.observe(entry, info.accessor))
    details.update(
        ttl=grant.lease_duration, expires_at=round(env.wall_clock() + grant.lease_duration)
    )
    sweep_note = _healthy_sweep(sink, env, client, info.accessor)
    if verdict.capped:
        return ItemResult(
            "token",
            sink.name,
            Outcome.WARNING,
            "token.renew_capped",
            f"RENEWED (capped) {sink.name} ({info.display_name}): only "
            f"{format_ttl(grant.lease_duration)} left and renewals cannot extend it "
            f"({verdict.reason}); mint a fresh one before then: renewer mint {sink.name}",
            {**details, "capped": True},
        )
    summary = (
        f"OK renewed {sink.name} ({info.display_name}, ttl {format_ttl(grant.lease_duration)})"
    )
    return ItemResult(
        "token", sink.name, Outcome.OK, "token.renewed", summary + sweep_note, details
    )


def _healthy_sweep(sink: TokenSink, env: TokenEnv, client: HvacVault, accessor: str) -> str:
    """``sweep: always`` sweeps on healthy runs; a crashed mint's leftover is always retired."""
    entry = env.ledger.get(sink.name)
    always = sink.sweep is SweepMode.ALWAYS
    if not always and not entry.sweep_candidates() and not entry.mint_started:
        return ""
    if sink.sweep is SweepMode.NEVER and not entry.pending:
        return ""
    report = run_sweep(sink, env, client, keep_accessor=accessor, full=always or entry.mint_started)
    return f"; {report.describe()}" if report.revoked or report.incomplete else ""


def heal(
    sink: TokenSink, env: TokenEnv, authority: HvacVault, plan: HealPlan, *, manual: bool = False
) -> ItemResult:
    """Mint with *authority*, check, write, sweep. Used by ``run`` (drift) and ``mint`` (manual)."""
    if env.dry_run:
        return ItemResult(
            "token",
            sink.name,
            Outcome.OK,
            "token.plan",
            f"PLAN {sink.name}: drift ({'; '.join(plan.reasons) or 'manual mint'}); "
            f"would {plan.describe()}",
            {"foreign_display_name": plan.foreign_display_name},
        )
    before = env.ledger.get(sink.name)  # mint_started here: an earlier mint's answer was lost
    env.ledger.put(sink.name, ledger_core.begin_mint(before))
    crashpoints.reached("heal.before_mint")
    try:
        grant = authority.create_orphan(plan.mint)
    except VaultDenied as denial:
        env.ledger.put(sink.name, ledger_core.forget_mint_attempt(env.ledger.get(sink.name)))
        return _drift(sink, plan, denial)
    except RenewerError:
        raise
    crashpoints.reached("heal.after_mint")
    env.ledger.put(
        sink.name,
        ledger_core.minted(
            env.ledger.get(sink.name), grant.accessor, unrecorded_before=before.mint_started
        ),
    )
    crashpoints.reached("heal.after_ledger_minted")
    minted = env.connection.client(grant.client_token)
    info = _accept(sink, env, minted, grant)
    try:
        write_token(sink.path, grant.client_token)
    except TokenFileError:
        _revoke_minted(sink, env, minted, grant.accessor)
        raise
    crashpoints.reached("heal.after_write")
    env.ledger.put(sink.name, ledger_core.committed(env.ledger.get(sink.name), info.accessor))
    crashpoints.reached("heal.after_commit")
    lost_mint = env.ledger.get(sink.name).mint_started  # only a full scan can find it
    report = run_sweep(
        sink,
        env,
        minted,
        keep_accessor=info.accessor,
        full=sink.sweep is not SweepMode.LEDGER or lost_mint,
    )
    details = _token_details(info, env.wall_clock())
    details.update(
        foreign_display_name=plan.foreign_display_name,
        swept=len(report.revoked),
        ours_remaining=report.ours_remaining,
    )
    complete = not report.incomplete and (report.ours_remaining or 1) <= 1
    if manual:
        return ItemResult(
            "token",
            sink.name,
            Outcome.OK if complete else Outcome.WARNING,
            "token.minted",
            f"MINTED {sink.name}: new periodic token {info.display_name} with the authority of "
            f"{plan.foreign_display_name!r} ({report.describe()})",
            details,
        )
    return ItemResult(
        "token",
        sink.name,
        Outcome.HEALED if complete else Outcome.WARNING,
        "token.healed",
        f"HEALED {sink.name}: re-minted periodic token {info.display_name} from foreign "
        f"{plan.foreign_display_name!r} ({report.describe()})",
        details,
    )


def _drift(sink: TokenSink, plan: HealPlan, denial: VaultDenied) -> ItemResult:
    return ItemResult(
        "token",
        sink.name,
        Outcome.NEEDS_HUMAN,
        "token.drift",
        f"DRIFT {sink.name}: {sink.path} holds a foreign token {plan.foreign_display_name!r} "
        f"({'; '.join(plan.reasons)}); heal denied by Vault ({denial.message}). "
        f"Investigate what wrote it; the file was left untouched. "
        f"Recover: {recovery_command(sink)}",
        {
            "foreign_display_name": plan.foreign_display_name,
            "denial": denial.message,
            "recovery": recovery_command(sink),
            "see": "runbooks/token-renewer.md#drift-heal-denied",
        },
    )


def _accept(sink: TokenSink, env: TokenEnv, minted: HvacVault, grant: AuthGrant) -> TokenInfo:
    """Look the minted token up with itself; revoke it unless it passes the guard."""
    try:
        info = minted.lookup_self()
    except RenewerError as error:
        fate = _revoke_minted(sink, env, minted, grant.accessor)
        # Vault could not answer: nothing is known against the token, and trying
        # again later is the cure (75), not a person (1).
        outage = isinstance(error, Temporary)
        raise (VaultUnavailable if outage else HealRejected)(
            f"the minted token could not be {'checked' if outage else 'looked up with itself'} "
            f"({error.message}); {fate} and the file left as it was"
        ) from None
    verdict = accept_minted(info, sink.expect, sink.mint)
    if not verdict.ok:
        fate = _revoke_minted(sink, env, minted, grant.accessor)
        raise HealRejected(
            f"the minted token is not what was asked for ({verdict.explain()}); "
            f"{fate} and the file left as it was",
            hint="check the mint: section of the config and the token role/policies in Vault",
        )
    return info


def _revoke_minted(sink: TokenSink, env: TokenEnv, minted: HvacVault, accessor: str) -> str:
    """Revoke a minted token that will not be used; say what happened to it."""
    try:
        minted.revoke_self()
    except RenewerError as error:
        env.notes.append(f"could not revoke the rejected token {accessor}: {error.message}")
        # it stays pending in the ledger: the next run revokes it
        return f"it could not be revoked now ({error.message}), the next run revokes it,"
    env.ledger.put(sink.name, ledger_core.abandoned(env.ledger.get(sink.name), accessor))
    return "it was revoked"


def run_sweep(
    sink: TokenSink, env: TokenEnv, client: HvacVault, *, keep_accessor: str, full: bool
) -> SweepReport:
    """Ledger sweep, then (when *full*) the full scan; the ledger forgets what is gone."""
    entry = env.ledger.get(sink.name)
    report = sweep_ledger(
        client,
        entry.sweep_candidates(),
        our_display_name=sink.expect.display_name,
        keep_accessor=keep_accessor,
        dry_run=env.dry_run,
        also_keep=entry.kept(),
    )
    if full and not report.incomplete:
        report = report.merge(
            full_scan(
                client,
                our_display_name=sink.expect.display_name,
                keep_accessor=keep_accessor,
                dry_run=env.dry_run,
                concurrency=env.config.run.sweep_concurrency,
                max_accessors=env.config.run.sweep_max_accessors,
                time_left=env.time_left,
                also_keep=entry.kept(),
            )
        )
    if not env.dry_run:
        entry = ledger_core.revoked(env.ledger.get(sink.name), *report.revoked, *report.gone)
        if full and not report.incomplete and not report.skipped:
            entry = ledger_core.forget_mint_attempt(entry)
        env.ledger.put(sink.name, entry)
    return report


def mint_now(sink: TokenSink, env: TokenEnv, authority_token: Secret) -> ItemResult:
    """``renewer mint``: mint *sink*'s token with the authority of *authority_token*."""
    try:
        authority = env.connection.client(authority_token)
        info = authority.lookup_self()
        plan = plan_heal(sink.name, info, check_drift(info, sink.expect), sink.mint)
        return heal(sink, env, authority, plan, manual=True)
    except RenewerError as error:
        return _failure(sink, error)


def sweep_now(sink: TokenSink, env: TokenEnv, *, full: bool) -> ItemResult:
    """``renewer sweep``: revoke stale accessors, keeping the healthy token in the file."""
    try:
        token_file = read_token(sink.path, sink=sink.name)
        client = env.connection.client(token_file.token)
        info = client.lookup_self()
        verdict = check_drift(info, sink.expect)
        if not verdict.ok:
            raise TokenFileError(
                f"{sink.path} does not hold our token ({verdict.explain()}); "
                "sweeping now could revoke the only token of ours",
                hint=f"run `renewer run --only {sink.name}` first (it heals), "
                f"or {recovery_command(sink)}",
            )
        _reconcile(sink, env, info)
        if not env.dry_run:
            env.ledger.put(sink.name, ledger_core.observe(env.ledger.get(sink.name), info.accessor))
        report = run_sweep(sink, env, client, keep_accessor=info.accessor, full=full)
    except RenewerError as error:
        return _failure(sink, error)
    verb = "would revoke" if env.dry_run else "revoked"
    # A sweep asked for by hand that could not finish is a temporary failure (try again).
    outcome = Outcome.TEMPORARY if report.incomplete else Outcome.OK
    summary = f"SWEPT {sink.name}: {report.describe()}".replace("revoked", verb, 1)
    details: dict[str, Any] = {"revoked": ",".join(report.revoked), "scanned": report.scanned}
    return ItemResult("token", sink.name, outcome, "sweep.revoked", summary, details)
