"""The RenewerError tree: every failure a person may have to act on.

A leaf module: it imports nothing from ``renewer`` (pip's rule for
``exceptions.py``), so any module can raise these without import cycles.

Each class carries the process exit code it maps to (product.md §2), a
``reference`` that is a heading anchor in ``runbooks/`` (a test checks that
every one resolves), and the instance carries a ``hint`` written for the
person reading it at 3 a.m.: what happened, what renewer did, the exact next
command. Messages and hints never contain secret values; they name files,
display names and accessors instead.

    RenewerError
    ├─ NeedsHuman (1)       drift not healed, heal failed, re-authorization needed, ...
    ├─ Temporary (75)       Vault or a service unreachable, lock busy
    └─ ConfigInvalid (78)   configuration or recipe invalid
"""

from __future__ import annotations

from typing import ClassVar

EXIT_OK = 0
EXIT_NEEDS_HUMAN = 1
EXIT_USAGE = 2
EXIT_TEMPORARY = 75
EXIT_CONFIG = 78


class RenewerError(Exception):
    """Base class. ``str(error)`` is the one-line message."""

    exit_code: ClassVar[int] = EXIT_NEEDS_HUMAN
    runbook: ClassVar[str] = "token-renewer.md"
    reference: ClassVar[str] = "health-check"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    @property
    def see(self) -> str:
        """Where the runbook explains this failure, relative to the repository."""
        return self.see_for(self.reference)

    @classmethod
    def see_for(cls, reference: str) -> str:
        """A section of this class's runbook (for results that are not raised)."""
        return f"runbooks/{cls.runbook}#{reference}"

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


# --- needs a human (exit 1) -------------------------------------------------


class NeedsHuman(RenewerError):
    exit_code: ClassVar[int] = EXIT_NEEDS_HUMAN


class DriftNotHealed(NeedsHuman):
    """A foreign token sits in a sink and Vault refused to let it mint ours."""

    reference: ClassVar[str] = "drift-heal-denied"


class HealRejected(NeedsHuman):
    """A minted token failed its sanity check; it was revoked, the file kept."""

    reference: ClassVar[str] = "heal-rejected"


class ReauthRequired(NeedsHuman):
    """The token or grant in a sink is dead; only a new login brings it back."""

    reference: ClassVar[str] = "reauth-required"


class TokenFileError(NeedsHuman):
    """A token file is missing, empty, oversized, not text, or not a regular file."""

    reference: ClassVar[str] = "token-file-invalid"


class VaultError(NeedsHuman):
    """Vault answered with an error renewer has no specific handling for."""

    reference: ClassVar[str] = "vault-error"

    def __init__(self, message: str, *, hint: str = "", status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class VaultDenied(VaultError):
    """Vault's authorization said no (403, or a 400 that is a denial)."""

    reference: ClassVar[str] = "vault-denied"


class CredentialError(NeedsHuman):
    """A service credential could not be refreshed, tested or written."""

    runbook: ClassVar[str] = "credentials.md"
    reference: ClassVar[str] = "credential-failed"


class CredentialReauthRequired(CredentialError):
    """An OAuth2 grant was refused (``invalid_grant``): a new login is needed."""

    reference: ClassVar[str] = "credential-reauth"


class HookFailed(CredentialError):
    """A post-change hook exited non-zero or timed out."""

    reference: ClassVar[str] = "hook-failed"


class RotationFailed(NeedsHuman):
    """A rotation's green credential failed validation; blue stays active."""

    runbook: ClassVar[str] = "rotation.md"
    reference: ClassVar[str] = "rotation-validation-failed"


class RotationBlocked(NeedsHuman):
    """A rotation cannot take its next step without a person (it changed nothing)."""

    runbook: ClassVar[str] = "rotation.md"
    reference: ClassVar[str] = "rotation-blocked"


class RotationHookFailed(NeedsHuman):
    """A rotation could not apply its values to a consumer (the post-rotation hook, or the
    platform a static secret is registered with); the step is repeated at the next run."""

    runbook: ClassVar[str] = "rotation.md"
    reference: ClassVar[str] = "rotation-hook-failed"


class RotationStateInvalid(NeedsHuman):
    """A rotation's state file cannot be read; renewer will not guess where it stood."""

    runbook: ClassVar[str] = "rotation.md"
    reference: ClassVar[str] = "rotation-state-invalid"


class TokenHelperError(NeedsHuman):
    """``renewer token-helper install``/``uninstall`` cannot do what was asked; nothing changed."""

    reference: ClassVar[str] = "token-helper"


class StateUnwritable(NeedsHuman):
    """renewer cannot write its own records (ledger, run state, rotation state): disk full,
    read-only, permissions. The step they would have recorded is not taken."""

    reference: ClassVar[str] = "state-unwritable"


class StateUntrusted(NeedsHuman):
    """A state or store path belongs to another user or others may write it; renewer
    neither reads nor writes there (the hint is the fix command)."""

    reference: ClassVar[str] = "state-untrusted"


# --- temporary (exit 75) ----------------------------------------------------


class Temporary(RenewerError):
    exit_code: ClassVar[int] = EXIT_TEMPORARY
    reference: ClassVar[str] = "temporary-failure"


class VaultUnavailable(Temporary):
    """Vault did not answer usefully within the retry budget."""

    reference: ClassVar[str] = "vault-unreachable"


class ServiceUnavailable(Temporary):
    """A service or token endpoint did not answer usefully within the retry budget."""

    runbook: ClassVar[str] = "credentials.md"
    reference: ClassVar[str] = "service-unreachable"


class LockBusy(Temporary):
    """Another renewer run holds the lock; this one waited and gave up."""

    reference: ClassVar[str] = "lock-busy"


# --- configuration (exit 78) ------------------------------------------------


class ConfigInvalid(RenewerError):
    exit_code: ClassVar[int] = EXIT_CONFIG
    reference: ClassVar[str] = "config-invalid"


class ConfigError(ConfigInvalid):
    """The configuration file cannot be used as written."""


class RecipeError(ConfigInvalid):
    """A recipe is invalid or refused by the safety rules."""

    runbook: ClassVar[str] = "credentials.md"
    reference: ClassVar[str] = "recipe-invalid"
