"""Self-heal and manual mint: mint with a token's authority, accept, write, sweep.

Vault's answer to the mint is the judge (a denial → ``token.drift``, file
untouched); the minted token is looked up with itself and must pass the
guard (else revoked, ``token.heal_failed``); the ledger is updated before the
file is replaced atomically; then the sweep. The clobbering token is never
revoked: it may back a live login.
"""

from __future__ import annotations

from renewer import crashpoints
from renewer.config import TokenSink
from renewer.core import ledger as ledger_core
from renewer.core.drift import check_drift
from renewer.core.heal import HealPlan, accept_minted, plan_heal
from renewer.core.model import AuthGrant, SweepMode, TokenInfo
from renewer.core.outcome import ItemResult, Outcome
from renewer.core.secret import Secret
from renewer.errors import (
    HealRejected,
    RenewerError,
    Temporary,
    TokenFileError,
    VaultDenied,
    VaultUnavailable,
)
from renewer.tokens.env import TokenEnv
from renewer.tokens.results import failure, recovery_command, token_details
from renewer.tokens.sweep import run_sweep
from renewer.tokens.tokenfile import write_token
from renewer.vault import HvacVault


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
    details = token_details(info, env.wall_clock())
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


def mint_now(sink: TokenSink, env: TokenEnv, authority_token: Secret) -> ItemResult:
    """``renewer mint``: mint *sink*'s token with the authority of *authority_token*."""
    try:
        authority = env.connection.client(authority_token)
        info = authority.lookup_self()
        plan = plan_heal(sink.name, info, check_drift(info, sink.expect), sink.mint)
        return heal(sink, env, authority, plan, manual=True)
    except RenewerError as error:
        return failure(sink, error)
