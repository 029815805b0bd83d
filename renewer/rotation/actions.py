"""What a rotation can be told to do next: the actions the plan returns.

Pure: stdlib only. :func:`~renewer.rotation.plan.plan_step` returns one of
these; each is a frozen value naming the credentials it touches and, where
it has one, the *intent* event the shell persists before performing it
(rule 3 of :mod:`renewer.rotation.machine`). :func:`describe` puts an action
in words for ``--dry-run``. Its own room, as the events are: the plan
decides which action, the drive performs it, the report tells it.
"""

from __future__ import annotations

from dataclasses import dataclass

from renewer.rotation.events import Event, PromotionStarted, Started


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to do now."""

    reason: str
    until: float | None = None


@dataclass(frozen=True, slots=True)
class Refuse:
    """Something is in the way; do nothing and say why."""

    reason: str
    needs_human: bool = False


@dataclass(frozen=True, slots=True)
class VerifyCurrent:
    """Use blue for real before issuing anything from it (read-only; nothing persisted)."""

    blue: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Issue:
    """Persist ``Started(blue)``, then issue green."""

    blue: str

    @property
    def intent(self) -> Event:
        return Started(self.blue)


@dataclass(frozen=True, slots=True)
class SweepLeftovers:
    """A run died while issuing: remove what this rotation provably issued and is not *keep*."""

    keep: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Validate:
    """Apply green to its consumers (where the target has any) and use it for real."""

    green: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Promote:
    """Persist ``PromotionStarted``, then put green into the sink (blue kept alive)."""

    green: str
    blue: str
    intent: Event | None = PromotionStarted()  # noqa: RUF009 - frozen and field-less


@dataclass(frozen=True, slots=True)
class ConfirmPromoted:
    """The sink already holds green (the run stopped right after writing it)."""

    green: str
    blue: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class RestoreBlue:
    """Rollback: put blue's kept value back into the sink; green is discarded next."""

    blue: str
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class RevokeBlue:
    """Revoke blue by its identifier (nothing to do when there was no blue).

    *successor* is what the sink holds (green, or what replaced it): the
    next cycle's blue.
    """

    blue: str
    successor: str = ""
    intent: Event | None = None


@dataclass(frozen=True, slots=True)
class Discard:
    """Revoke green by its identifier."""

    green: str
    reason: str
    intent: Event | None = None


Action = (
    Wait
    | Refuse
    | VerifyCurrent
    | Issue
    | SweepLeftovers
    | Validate
    | Promote
    | ConfirmPromoted
    | RestoreBlue
    | RevokeBlue
    | Discard
)


def describe(action: Action, noun: str) -> str:
    """The plan in words, for ``--dry-run``: a clause after "would" (or "nothing to do")."""
    match action:
        case Wait(reason=reason):
            return f"nothing to do ({reason})"
        case Refuse(reason=reason):
            return f"refuse to proceed: {reason}"
        case VerifyCurrent(blue=blue):
            current = f"the current {noun} {blue}" if blue else f"that there is a current {noun}"
            return f"check {current} still works, then issue a new one, validate and promote it"
        case Issue():
            return f"issue a new {noun}, validate it, then promote it"
        case SweepLeftovers():
            return f"remove any {noun} a stopped run issued but never recorded, then start again"
        case Validate(green=green):
            return f"validate the new {noun} {green}"
        case Promote(green=green):
            return f"put the new {noun} {green} into the sink"
        case ConfirmPromoted(green=green):
            return f"record that the new {noun} {green} is in the sink"
        case RestoreBlue(blue=blue):
            return f"put the old {noun} {blue} back into the sink, then discard the new one"
        case RevokeBlue(blue=blue):
            return f"withdraw the old {noun} {blue}" if blue else "finish the cycle"
        case Discard(green=green, reason=reason):
            return f"withdraw the new {noun} {green} ({reason})"
    return type(action).__name__  # pragma: no cover - every action is matched above
