"""What can happen to a rotation: the events the state machine is fed (nouns, as h11's).

Pure: stdlib only. Each event is a frozen value carrying only identifiers and
reasons, never a secret. Its own room, as h11 keeps ``_events.py`` apart from
``_state.py``: :mod:`renewer.rotation.plan` builds events, the shell reports
them, and :mod:`renewer.rotation.machine` alone decides what each one does
(its :data:`~renewer.rotation.machine.TABLE`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Started:
    """A cycle begins from the credential now in the sink."""

    blue: str


@dataclass(frozen=True, slots=True)
class Issued:
    """Green exists; *green* is its identifier."""

    green: str


@dataclass(frozen=True, slots=True)
class IssueRefused:
    """The issuer said no; nothing was created."""

    reason: str


@dataclass(frozen=True, slots=True)
class LeftoversSwept:
    """An interrupted issue was cleaned up: no green of this cycle is left."""


@dataclass(frozen=True, slots=True)
class Validated:
    """Green was used for real and worked."""


@dataclass(frozen=True, slots=True)
class ValidationFailed:
    """Green did not work; it must be discarded and a human told."""

    reason: str


@dataclass(frozen=True, slots=True)
class HookFailed:
    """Green could not be applied to its consumers (a hook, the platform); withdraw it."""

    reason: str


@dataclass(frozen=True, slots=True)
class GreenLost:
    """Green's value is gone (the run that held it stopped); discard it by identifier."""

    reason: str


@dataclass(frozen=True, slots=True)
class PromotionStarted:
    """About to put green into the sink."""


@dataclass(frozen=True, slots=True)
class Promoted:
    """The sink holds green; blue lives on for *grace* seconds."""

    grace: int


@dataclass(frozen=True, slots=True)
class RolledBack:
    """Blue is (back) in the sink, or a person asked to abandon green."""

    reason: str


@dataclass(frozen=True, slots=True)
class GraceEnded:
    """Blue's grace period is over; revoke it."""


@dataclass(frozen=True, slots=True)
class BlueRevoked:
    """Blue is gone (revoked now, or already gone).

    *successor* is what the sink holds now: green normally, or whatever
    replaced green during the grace (a heal's token). It is the next cycle's
    blue; "" when the sink held nothing usable.
    """

    successor: str


@dataclass(frozen=True, slots=True)
class GreenDiscarded:
    """Green is gone (revoked now, or already gone)."""


Event = (
    Started
    | Issued
    | IssueRefused
    | LeftoversSwept
    | Validated
    | ValidationFailed
    | HookFailed
    | GreenLost
    | PromotionStarted
    | Promoted
    | RolledBack
    | GraceEnded
    | BlueRevoked
    | GreenDiscarded
)
