"""Outcomes of one run's items, and the exit code they add up to.

Pure. Each item (a token sink, a credential, a rotation) ends in one
:class:`Outcome`; the run's exit code is the worst of them (product.md §2).
"Worst" ranks a configuration problem above a human's attention above a
temporary failure: a run where one item needs a human and another hit a
timeout must still fail loudly (exit 1, ``OnFailure=`` fires) rather than
be retried quietly as temporary (exit 75).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum


class Outcome(Enum):
    """How one item ended. The value is (severity rank, exit code)."""

    UNCHANGED = (0, 0)  # nothing was due
    OK = (1, 0)  # renewed / refreshed / tested
    HEALED = (2, 0)  # drift repaired: a heal is ok
    WARNING = (3, 0)  # worked, but a person should look (capped renewal, repaired mode)
    TEMPORARY = (4, 75)  # unreachable after bounded retries; try again later
    NEEDS_HUMAN = (5, 1)  # drift not healed, re-authorization, validation failed
    CONFIG = (6, 78)  # configuration or recipe invalid

    @property
    def rank(self) -> int:
        return self.value[0]

    @property
    def exit_code(self) -> int:
        return self.value[1]

    @property
    def healthy(self) -> bool:
        """True when no person needs to act on this item."""
        return self.rank <= Outcome.HEALED.rank


Detail = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one item, in words a person and a program can both read.

    ``details`` feed the state file and ``status``; they never hold secrets
    (accessors and display names are fine, token values are not).
    """

    kind: str  # "token", "credential", "rotation"
    name: str
    outcome: Outcome
    event: str  # the structlog event name, e.g. "token.renewed"
    summary: str  # one human sentence
    details: Mapping[str, Detail] = field(default_factory=dict)


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    """The most severe outcome; an empty run is UNCHANGED."""
    return max(outcomes, key=lambda outcome: outcome.rank, default=Outcome.UNCHANGED)


def exit_code(results: Iterable[ItemResult]) -> int:
    """The process exit code for a run that produced *results*."""
    return worst(result.outcome for result in results).exit_code


def outcome_for_exit_code(code: int) -> Outcome:
    """The outcome an error's exit code stands for (used when an item raises)."""
    return {0: Outcome.OK, 75: Outcome.TEMPORARY, 78: Outcome.CONFIG}.get(code, Outcome.NEEDS_HUMAN)
