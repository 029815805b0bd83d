"""``--dry-run`` and ``renewer check``: what a heal would get from Vault, asked read-only.

A dry run may not mint, and printing "would mint" for a heal Vault will deny
made ``--dry-run`` exit 0 where the real run exits 1 (issue 15). So the
authority is asked ``sys/capabilities-self`` on the mint path (and the scan
path), and ``renewer.core.heal.predict_heal`` applies Vault's token-store
rules to the answer; the plan's outcome, and so the exit code, is the
predicted one.
"""

from __future__ import annotations

from renewer.config import TokenSink
from renewer.core.heal import MINT_PATH, SCAN_PATH, HealForecast, HealPlan, predict_heal
from renewer.core.model import SweepMode
from renewer.core.outcome import Detail, ItemResult, Outcome
from renewer.errors import VaultDenied
from renewer.tokens.env import TokenEnv
from renewer.vault import HvacVault

DRIFT_SEE = "runbooks/token-renewer.md#drift-heal-denied"


def dry_run_plan(
    sink: TokenSink, env: TokenEnv, authority: HvacVault, plan: HealPlan
) -> ItemResult:
    """``--dry-run``: ask Vault read-only what the mint would get; report that outcome."""
    forecast = forecast_heal(authority, plan)
    why = "; ".join(plan.reasons) or "manual mint"
    details: dict[str, Detail] = {
        "foreign_display_name": plan.foreign_display_name,
        "authority_source": plan.source,
        "forecast": forecast.words(),
    }
    if forecast.allowed is False:
        recovery = env.recovery(sink)
        summary = (
            f"PLAN {sink.name}: drift ({why}); {forecast.words()}. A real run would leave the "
            f"file untouched and exit 1. Recover: {recovery}"
        )
        details.update(recovery=recovery, see=DRIFT_SEE, predicted_exit=1)
        return ItemResult("token", sink.name, Outcome.NEEDS_HUMAN, "token.plan", summary, details)
    summary = f"PLAN {sink.name}: drift ({why}); would {plan.describe()}"
    if forecast.allowed:
        summary += f" ({forecast.reason})"
        if forecast.full_scan is False and sink.sweep is not SweepMode.LEDGER:
            summary += (
                f"; the full scan would be skipped (no list and sudo on {SCAN_PATH}), "
                "only the ledger swept"
            )
        details["predicted_exit"] = 0
        return ItemResult("token", sink.name, Outcome.OK, "token.plan", summary, details)
    summary += f"; {forecast.words()}: Vault decides at run time"
    return ItemResult("token", sink.name, Outcome.WARNING, "token.plan", summary, details)


def forecast_heal(authority: HvacVault, plan: HealPlan) -> HealForecast:
    """Predict the heal's mint read-only (``sys/capabilities-self``); never raises for a denial."""
    if plan.foreign is None:
        return HealForecast(None, "the authority token was not looked up")
    try:
        capabilities = authority.capabilities_self([MINT_PATH, SCAN_PATH])
    except VaultDenied as error:
        return predict_heal(plan.foreign, None, why_unknown=error.message)
    return predict_heal(plan.foreign, capabilities)
