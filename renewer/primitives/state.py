"""What a primitive works from: the stored runtime state, and the credential's whole state.

:class:`RuntimeState` is what a primitive maintains between runs, stored
apart from the secret (parsed strictly: a damaged record is
:class:`RuntimeStateDamaged`, never a guess). :class:`CredentialState` is the
seed's AuthContext without the clock: recipe, secret and runtime. Its own
room: these are values with their parsing and redaction rules, read by the
handle, the runner, ``creds set`` and every primitive; the interface the
primitives implement is :mod:`renewer.primitives.base`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

from renewer import redact
from renewer.core.secret import Secret
from renewer.errors import CredentialError
from renewer.recipes.model import Recipe
from renewer.secretstore.base import Record
from renewer.template import Values


class RuntimeStateDamaged(ValueError):
    """A stored runtime record does not parse (the reason is safe to show)."""


def _time(record: Record, key: str) -> float | None:
    text = record.get(key)
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise RuntimeStateDamaged(f"{key} is not a number") from None
    if not math.isfinite(value):
        raise RuntimeStateDamaged(f"{key} is not a finite number")
    return value


# Runtime values that are secrets although they live in ``extra``.
SECRET_EXTRAS = frozenset({"aws_secret_access_key", "client_key"})


def _secret(record: Record, key: str) -> Secret | None:
    value = record.get(key)
    if not value:
        return None
    redact.register(value)
    return Secret(value)


@dataclass(frozen=True, slots=True)
class RuntimeState:
    """What a primitive maintains between runs; stored apart from the secret."""

    access_token: Secret | None = None
    refresh_token: Secret | None = None
    token_type: str = ""
    scope: str = ""
    issued_at: float | None = None  # wall clock, seconds
    expires_at: float | None = None
    needs_reauth: bool = False
    reauth_reason: str = ""
    reauth_recipe: str = ""  # the recipe's fingerprint when the mark was set
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)  # kind-specific values

    _FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "access_token",
            "refresh_token",
            "token_type",
            "scope",
            "issued_at",
            "expires_at",
            "needs_reauth",
            "reauth_reason",
            "reauth_recipe",
        }
    )

    @classmethod
    def from_record(cls, record: Record | None) -> RuntimeState:
        """Parse a stored record (None: nothing yet); raise :class:`RuntimeStateDamaged`."""
        if not record:
            return cls()
        for key in SECRET_EXTRAS & set(record):
            register_secret(record[key])
        return cls(
            access_token=_secret(record, "access_token"),
            refresh_token=_secret(record, "refresh_token"),
            token_type=record.get("token_type", ""),
            scope=record.get("scope", ""),
            issued_at=_time(record, "issued_at"),
            expires_at=_time(record, "expires_at"),
            needs_reauth=record.get("needs_reauth") == "true",
            reauth_reason=record.get("reauth_reason", ""),
            reauth_recipe=record.get("reauth_recipe", ""),
            extra={k: v for k, v in record.items() if k not in cls._FIELDS},
        )

    def to_record(self) -> Record:
        """The record to store; only non-empty values."""
        record: Record = dict(self.extra)
        values = {
            "access_token": self.access_token.reveal() if self.access_token else "",
            "refresh_token": self.refresh_token.reveal() if self.refresh_token else "",
            "token_type": self.token_type,
            "scope": self.scope,
            "issued_at": "" if self.issued_at is None else repr(self.issued_at),
            "expires_at": "" if self.expires_at is None else repr(self.expires_at),
            "needs_reauth": "true" if self.needs_reauth else "",
            "reauth_reason": self.reauth_reason,
            "reauth_recipe": self.reauth_recipe if self.needs_reauth else "",
        }
        record.update({key: value for key, value in values.items() if value})
        return record

    def marked_for_reauth(self, reason: str, *, recipe: str = "") -> RuntimeState:
        """The same state, flagged so ``status`` and ``creds list`` show it.

        *recipe* is the fingerprint of the recipe the refusal happened with: a
        refusal may be the recipe's fault (the claims of an assertion, a token
        URL), so a changed recipe deserves one more try (:meth:`for_recipe`).
        """
        return replace(self, needs_reauth=True, reauth_reason=reason, reauth_recipe=recipe)

    def for_recipe(self, fingerprint: str) -> RuntimeState:
        """The state as seen with the recipe *fingerprint*: a mark set with another is void."""
        if self.needs_reauth and self.reauth_recipe and self.reauth_recipe != fingerprint:
            return replace(self, needs_reauth=False, reauth_reason="", reauth_recipe="")
        return self

    def template_values(self) -> dict[str, str]:
        """``{{runtime.*}}`` values; the refresh token is never among them."""
        values = {"token_type": self.token_type, "scope": self.scope}
        if self.access_token:
            values["access_token"] = self.access_token.reveal()
        if self.expires_at is not None:
            values["expires_at"] = str(int(self.expires_at))
        values.update(self.extra)
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True, slots=True)
class CredentialState:
    """Everything a primitive works from: the seed's AuthContext, without the clock."""

    name: str
    recipe: Recipe
    secret: Mapping[str, Secret] = field(repr=False)
    runtime: RuntimeState = field(default_factory=RuntimeState, repr=False)

    def values(self) -> Values:
        """Template values: ``secret``, ``const`` and ``runtime`` namespaces."""
        return {
            "secret": {key: value.reveal() for key, value in self.secret.items()},
            "const": dict(self.recipe.const),
            "runtime": self.runtime.template_values(),
        }

    def require(self, key: str) -> str:
        """A secret value the primitive cannot work without."""
        value = self.secret.get(key)
        if not value:
            raise CredentialError(
                f"{self.name}: the stored secret has no {key!r}",
                hint=f"renewer creds set {self.name}",
            )
        return value.reveal()


def register_secret(value: str) -> None:
    """Register *value* for redaction, and each line of it (a PEM key leaks line by line)."""
    redact.register(value, *(line for line in value.splitlines() if len(line) >= 16))
