"""The protocol every rotation target speaks, and the credential in hand.

A target knows one kind of credential (a periodic Vault token, an AppRole
secret-id, a multi-key static secret) and its *sink* (where consumers read
the active one). :mod:`renewer.rotation.drive` calls these methods, one per
step of the machine, after persisting the step's intent. Every method but
:meth:`Target.issue` must be idempotent: a crash may repeat it.

Error contract: raise :class:`renewer.errors.Temporary` (exit 75) when the
outcome is unknown (Vault unreachable mid-request) — the state stays where it
is and the next run resumes; raise another :class:`renewer.errors.RenewerError`
for a definite refusal. ``issue`` raising a non-temporary error means nothing
was created. ``validate`` raising :class:`renewer.errors.RotationHookFailed`
means green could not be applied to its consumers: it is withdrawn like a
green that failed validation, and reported as the hook's failure.

Withdrawing (``revoke_old``, ``discard``, ``sweep_leftovers``) is complete
only when every consumer has been told: a target that applies values to
consumers re-applies the current state on *every* call, even when the store
change was already made by an earlier, interrupted call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from renewer.core.drift import Verdict
from renewer.core.secret import Secret
from renewer.rotation.plan import SinkView


@dataclass(frozen=True, slots=True)
class Green:
    """A freshly issued credential: its identifier (persisted) and its value (never persisted)."""

    identifier: str
    value: Secret = field(repr=False)


class Target(Protocol):
    """One rotatable credential and its sink."""

    kind: str  # the config's type: "vault-token", "approle", "static"
    noun: str  # for messages: "token", "secret-id", "key"

    def observe(self) -> SinkView:
        """What the sink holds now (read-only; asks Vault or the store as needed)."""
        ...

    def check_current(self, blue: str) -> Verdict:
        """Use blue for real before a cycle starts from it; a failed verdict stops the cycle."""
        ...

    def authority(self, blue: str) -> str:
        """Whose authority issues green, in words ("the current token X"); "" when none."""
        ...

    def issue(self, *, blue: str) -> Green:
        """Create green with the authority of blue (or of the configured authority)."""
        ...

    def validate(self, green: Green) -> Verdict:
        """Use green for real; a failed verdict means green must be discarded."""
        ...

    def promote(self, green: Green, *, blue: str) -> None:
        """Put green into the sink; keep blue alive and its value at hand for a rollback."""
        ...

    def confirm_promoted(self, *, green: str, blue: str) -> None:
        """The sink already holds green (a run died right after writing it): finish the books."""
        ...

    def restore_blue(self, *, blue: str) -> None:
        """Rollback during the grace: put blue's kept value back into the sink."""
        ...

    def revoke_old(self, blue: str) -> bool:
        """Revoke blue by identifier; False when it was already gone."""
        ...

    def discard(self, green: str) -> bool:
        """Revoke green by identifier; False when it was already gone."""
        ...

    def sweep_leftovers(self, *, keep: str) -> int:
        """A run died while issuing: remove greens of this rotation nobody recorded."""
        ...
