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

from pathlib import Path
from typing import Any

from renewer.config import TokenSink
from renewer.core import ledger as ledger_core
from renewer.core.drift import check_drift
from renewer.core.duration import format_ttl
from renewer.core.heal import plan_heal
from renewer.core.model import SweepMode, TokenInfo
from renewer.core.outcome import ItemResult, Outcome
from renewer.core.renewal import check_renewal
from renewer.errors import RenewerError, TokenFileError
from renewer.tokens.env import TokenEnv
from renewer.tokens.heal import heal
from renewer.tokens.results import cap_words, failure, token_details, with_note
from renewer.tokens.sweep import run_sweep
from renewer.tokens.tokenfile import read_token, repair_mode
from renewer.vault import HvacVault


def process_sink(sink: TokenSink, env: TokenEnv) -> ItemResult:
    """One pass over one token sink; never raises a ``RenewerError``."""
    try:
        token_file = read_token(sink.path, sink=sink.name, recovery=env.recovery(sink))
        mode_note = ""
        if token_file.loose_mode:
            mode_note = f"{sink.path} was readable by others (mode {token_file.mode:o})"
            if not env.dry_run:
                repair_mode(token_file)
                mode_note += "; repaired to 0600"
        client = env.connection.client(token_file.token)
        info = client.lookup_self()
        verdict = check_drift(info, sink.expect, owner=env.owner, sink=sink.name)
        reconcile(sink, env, info, ours=verdict.ok)
        if verdict.ok:
            result = _renew(sink, env, client, info)
        else:
            plan = plan_heal(
                sink.name,
                info,
                verdict,
                sink.mint,
                owner=env.owner,
                source=shown(sink.path, env.config.home),
            )
            result = heal(sink, env, client, plan)
        return with_note(result, mode_note)
    except RenewerError as error:
        return failure(sink, error, recovery=env.recovery(sink))


def shown(path: Path, home: Path) -> str:
    """*path* as a person types it: ``~/.vault-token`` rather than ``/home/me/.vault-token``."""
    try:
        return f"~/{path.relative_to(home)}"
    except ValueError:
        return str(path)


def reconcile(sink: TokenSink, env: TokenEnv, info: TokenInfo, *, ours: bool) -> None:
    """Adopt or retire what an interrupted heal left in the ledger.

    *ours*: the token in the file passed the drift guard (only such a token
    may become the ledger's current one).
    """
    entry = env.ledger.get(sink.name)
    repaired = ledger_core.reconcile(entry, info.accessor if ours else "")
    if not env.dry_run:
        env.ledger.put(sink.name, repaired)


def _renew(sink: TokenSink, env: TokenEnv, client: HvacVault, info: TokenInfo) -> ItemResult:
    details = token_details(info, env.wall_clock())
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
        explicit_max_ttl=info.explicit_max_ttl,
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
            f"RENEWED (capped) {sink.name} ({info.display_name}, ttl "
            f"{format_ttl(grant.lease_duration)}): {cap_words(sink, verdict)}",
            {**details, "capped": True, "cap": verdict.cause.name if verdict.cause else None},
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


def sweep_now(sink: TokenSink, env: TokenEnv, *, full: bool) -> ItemResult:
    """``renewer sweep``: revoke stale accessors, keeping the healthy token in the file."""
    try:
        token_file = read_token(sink.path, sink=sink.name, recovery=env.recovery(sink))
        client = env.connection.client(token_file.token)
        info = client.lookup_self()
        verdict = check_drift(info, sink.expect, owner=env.owner, sink=sink.name)
        if not verdict.ok:
            raise TokenFileError(
                f"{sink.path} does not hold our token ({verdict.explain()}); "
                "sweeping now could revoke the only token of ours",
                hint=f"run `renewer run --only {sink.name}` first (it heals), "
                f"or {env.recovery(sink)}",
            )
        reconcile(sink, env, info, ours=True)
        if not env.dry_run:
            env.ledger.put(sink.name, ledger_core.observe(env.ledger.get(sink.name), info.accessor))
        report = run_sweep(sink, env, client, keep_accessor=info.accessor, full=full, by_hand=full)
    except RenewerError as error:
        return failure(sink, error, recovery=env.recovery(sink))
    verb = "would revoke" if env.dry_run else "revoked"
    # A sweep asked for by hand that could not finish is a temporary failure (try again).
    outcome = Outcome.TEMPORARY if report.incomplete else Outcome.OK
    summary = f"SWEPT {sink.name}: {report.describe()}".replace("revoked", verb, 1)
    details: dict[str, Any] = {"revoked": ",".join(report.revoked), "scanned": report.scanned}
    return ItemResult("token", sink.name, outcome, "sweep.revoked", summary, details)
