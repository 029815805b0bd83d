"""``renewer check``: everything that can be verified without changing anything.

The config is already valid when this runs (loading it is the first check).
Then: the state dir, each rotation's state file (readable? where does it
stand, when is it due?), every token file (present, one token, our own, mode
0600), Vault reachable and unsealed, and each sink's token looked up (read
only) and put through the drift guard. On drift, Vault is asked read-only
(``sys/capabilities-self``) whether the token in the file may mint ours, so
the line says what ``renewer run`` will do: heal it (warn, exit 0) or be
denied (fail, exit 1, with the recovery). Nothing is renewed, minted,
repaired or revoked.

:mod:`.local` holds the checks of files, recipes and credentials,
:mod:`.tokens` the ones that ask Vault about the token sinks, and
:mod:`.finding` the line each one returns.
"""

from __future__ import annotations

from renewer.check.finding import Finding
from renewer.check.local import (
    check_credentials,
    check_recipes,
    check_rotation,
    check_state_dir,
    check_token_helper,
)
from renewer.check.tokens import check_sink, check_vault
from renewer.config import Config
from renewer.errors import EXIT_CONFIG, ConfigInvalid
from renewer.run import Runtime, retry_policy
from renewer.tokens.owner import installation_owner
from renewer.vault import VaultConnection

__all__ = ["Finding", "run_checks"]


def run_checks(config: Config) -> list[Finding]:
    findings = [Finding("ok", "config", f"{config.source} is valid")]
    findings.append(check_state_dir(config))
    findings.extend(check_rotation(config, index) for index in range(len(config.rotations)))
    findings.extend(check_recipes(config))
    findings.extend(check_credentials(config))
    findings.extend(check_token_helper(config))
    if not config.tokens:
        if not config.credentials.credentials and not config.rotations:
            # install.sh reads this line: it does not enable a timer with nothing to do.
            findings.append(
                Finding(
                    "warn",
                    "tokens",
                    f"none configured: renewer has nothing to keep alive yet "
                    f"(edit tokens: in {config.source})",
                )
            )
        return findings
    runtime = Runtime()
    try:
        connection = VaultConnection(config.vault, retry_policy(config, runtime))
    except ConfigInvalid as error:  # no Vault address anywhere
        findings.append(Finding("fail", "vault", f"{error.message}; {error.hint}", EXIT_CONFIG))
        return findings
    with connection:
        findings.append(check_vault(config, connection))
        if findings[-1].status == "fail":
            return findings
        owner = installation_owner(config, persist=False)
        findings.extend(
            check_sink(config, connection, index, owner) for index in range(len(config.tokens))
        )
    return findings
