"""Self-heal and manual mint: mint with a token's authority, accept, write, sweep.

Vault's answer to the mint is the judge (a denial → ``token.drift``, file
untouched); the minted token is looked up with itself and must pass the
guard (else revoked, ``token.heal_failed``); the ledger is updated before the
file is replaced atomically; then the sweep. The clobbering token is never
revoked by renewer: it may back a live login. It can still die with the sweep:
a token created *from* our old token is that token's child, and Vault revokes
children with their parent. The heal looks it up after the sweep and says so.

``--dry-run`` mints nothing (``renewer.tokens.forecast``). Every line names
where the authority came from (the sink's file, ``$VAULT_TOKEN``,
``--from-file``).
"""

from __future__ import annotations

from renewer import crashpoints
from renewer.config import TokenSink
from renewer.core import ledger as ledger_core
from renewer.core.drift import check_drift
from renewer.core.heal import HealPlan, accept_minted, plan_heal
from renewer.core.model import AuthGrant, SweepMode, TokenInfo
from renewer.core.outcome import ItemResult, Outcome
from renewer.core.renewal import check_renewal
from renewer.core.secret import Secret
from renewer.core.sweep import SweepReport
from renewer.errors import (
    HealRejected,
    ReauthRequired,
    RenewerError,
    Temporary,
    TokenFileError,
    VaultDenied,
    VaultUnavailable,
)
from renewer.tokens import meanwhile
from renewer.tokens.env import TokenEnv
from renewer.tokens.forecast import DRIFT_SEE, dry_run_plan
from renewer.tokens.results import cap_words, failure, token_details, with_note
from renewer.tokens.sweep import run_sweep
from renewer.tokens.tokenfile import write_token
from renewer.vault import HvacVault

MINT_DENIED_SEE = "runbooks/token-renewer.md#mint-denied"


def heal(
    sink: TokenSink, env: TokenEnv, authority: HvacVault, plan: HealPlan, *, manual: bool = False
) -> ItemResult:
    """Mint with *authority*, check, write, sweep. Used by ``run`` (drift) and ``mint`` (manual)."""
    if env.dry_run:
        return dry_run_plan(sink, env, authority, plan)
    before = env.ledger.get(sink.name)  # mint_started here: an earlier mint's answer was lost
    in_file = meanwhile.snapshot(sink.path)  # a login may write the file while we mint
    env.ledger.put(sink.name, ledger_core.begin_mint(before))
    crashpoints.reached("heal.before_mint")
    try:
        grant = authority.create_orphan(plan.mint)
    except VaultDenied as denial:
        env.ledger.put(sink.name, ledger_core.forget_mint_attempt(env.ledger.get(sink.name)))
        return _denied(sink, env, plan, denial.message, manual=manual)
    except ReauthRequired:
        # The authority died before the mint (a 403 for a dead token comes before any
        # handler runs): nothing was minted, so there is no lost answer to look for.
        env.ledger.put(sink.name, ledger_core.forget_mint_attempt(env.ledger.get(sink.name)))
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
    kept_note = _keep_a_login_written_meanwhile(sink, env, minted, grant, in_file)
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
        spare=_clobber(plan),
    )
    cascade = _cascade(authority, plan, report)
    healed = _healed(
        sink, env, plan, grant=grant, info=info, report=report, cascade=cascade, manual=manual
    )
    return with_note(healed, kept_note)


def _keep_a_login_written_meanwhile(
    sink: TokenSink, env: TokenEnv, minted: HvacVault, grant: AuthGrant, in_file: bytes | None
) -> str:
    """Set aside a token written to the file since the heal began; "" when none was."""
    login = meanwhile.written_meanwhile(sink, in_file)
    if login is None:
        return ""
    try:
        return meanwhile.keep_login(env.config, sink, login)
    except RenewerError as error:
        fate = _revoke_minted(sink, env, minted, grant.accessor)
        raise TokenFileError(
            f"{sink.path} was written while the heal ran (a login?) and that token could not "
            f"be kept apart ({error.message}); the file keeps that token, and the one minted "
            f"for {sink.name}: {fate.rstrip(',')}",
            hint=error.hint or "the next renewer run heals the sink",
        ) from None


def _healed(
    sink: TokenSink,
    env: TokenEnv,
    plan: HealPlan,
    *,
    grant: AuthGrant,
    info: TokenInfo,
    report: SweepReport,
    cascade: str,
    manual: bool,
) -> ItemResult:
    details = token_details(info, env.wall_clock())
    details.update(
        ttl=grant.lease_duration,
        expires_at=round(env.wall_clock() + grant.lease_duration),
        foreign_display_name=plan.foreign_display_name,
        authority_source=plan.source,
        swept=len(report.revoked),
        ours_remaining=report.ours_remaining,
        others_left_alone=report.elsewhere,
        authority_revoked_by_cascade=bool(cascade),
    )
    cap = check_renewal(
        expected=sink.mint.period,
        granted=grant.lease_duration,
        warnings=grant.warnings,
        explicit_max_ttl=info.explicit_max_ttl,
    )
    notes = [f" ({report.describe()})"]
    if cascade:
        notes.append(f"; {cascade}")
    if cap.capped:
        details["capped"] = True
        notes.append("; " + cap_words(sink, cap))
    complete = not report.incomplete and (report.ours_remaining or 1) <= 1
    fine = Outcome.OK if manual else Outcome.HEALED
    outcome = fine if complete and not cap.capped else Outcome.WARNING
    if manual:
        head = (
            f"MINTED {sink.name}: new periodic token {info.display_name} with the authority "
            f"of {plan.authority()}"
        )
        return ItemResult(
            "token", sink.name, outcome, "token.minted", head + "".join(notes), details
        )
    head = (
        f"HEALED {sink.name}: {plan.source or sink.path} held {plan.foreign_display_name!r}, "
        f"not our periodic token ({'; '.join(plan.reasons)}); re-minted {info.display_name} "
        "with its authority"
    )
    return ItemResult("token", sink.name, outcome, "token.healed", head + "".join(notes), details)


def _clobber(plan: HealPlan) -> frozenset[str]:
    """The clobbering token: spared by the sweep whatever its name (it may back a login).

    A manual mint acting with our own healthy token is no clobber: that token
    is superseded like any other of ours.
    """
    if plan.foreign is None or not plan.reasons:
        return frozenset()
    return frozenset({plan.foreign.accessor})


def _cascade(authority: HvacVault, plan: HealPlan, report: SweepReport) -> str:
    """After a sweep that revoked something: did the authority die with a revoked parent?

    Vault revokes a token's children with it. A clobbering token created from
    our old token (``vault token create`` with it) is such a child: the sweep
    that retires the old token takes the clobbering one along.
    """
    if not report.revoked or report.incomplete:
        return ""
    try:
        authority.lookup_self()
    except ReauthRequired:
        return (
            f"the authority token {plan.authority()} was created from a token the sweep "
            "revoked, and Vault revoked it with its parent (cascade); the file now holds our "
            "token, log in again wherever you used the other one"
        )
    except RenewerError as error:
        return f"could not check whether the authority token outlived the sweep ({error.message})"
    return ""


def _denied(
    sink: TokenSink, env: TokenEnv, plan: HealPlan, denial: str, *, manual: bool
) -> ItemResult:
    recovery = env.recovery(sink)
    details = {
        "foreign_display_name": plan.foreign_display_name,
        "authority_source": plan.source,
        "denial": denial,
        "recovery": recovery,
        "see": MINT_DENIED_SEE if manual else DRIFT_SEE,
    }
    if manual:
        summary = (
            f"MINT DENIED {sink.name}: the authority token {plan.authority()} may not mint "
            f"{sink.name}'s periodic token; Vault said: {denial}. Nothing was changed. "
            f"Recover: {recovery}"
        )
        return ItemResult(
            "token", sink.name, Outcome.NEEDS_HUMAN, "token.mint_denied", summary, details
        )
    summary = (
        f"DRIFT {sink.name}: {sink.path} holds a token that is not ours, "
        f"{plan.foreign_display_name!r} ({'; '.join(plan.reasons)}); heal denied by Vault "
        f"({denial}). Investigate what wrote it; the file was left untouched. "
        f"Recover: {recovery}"
    )
    return ItemResult("token", sink.name, Outcome.NEEDS_HUMAN, "token.drift", summary, details)


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
    verdict = accept_minted(info, sink.expect, sink.mint, owner=env.owner, sink=sink.name)
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


def mint_now(sink: TokenSink, env: TokenEnv, authority_token: Secret, *, source: str) -> ItemResult:
    """``renewer mint``: mint *sink*'s token with the authority of *authority_token*.

    *source* says where that token came from (``$VAULT_TOKEN``, ``--from-file
    PATH``, or the sink's file), for every line this prints.
    """
    try:
        authority = env.connection.client(authority_token)
        try:
            info = authority.lookup_self()
        except ReauthRequired as error:
            raise ReauthRequired(
                f"the authority token from {source} is not valid (expired or revoked): "
                f"{error.message}",
                hint=f"log in again and mint: {env.recovery(sink)}",
            ) from None
        verdict = check_drift(info, sink.expect, owner=env.owner, sink=sink.name)
        plan = plan_heal(sink.name, info, verdict, sink.mint, owner=env.owner, source=source)
        return heal(sink, env, authority, plan, manual=True)
    except RenewerError as error:
        return failure(sink, error, recovery=env.recovery(sink))
