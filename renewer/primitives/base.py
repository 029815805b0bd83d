"""The one interface every primitive implements: authenticate, needs-refresh, refresh, test.

Design: seed 004 §6.1 (``Authenticate``, ``NeedsRefresh``, ``Refresh``,
``Test`` over an ``AuthContext`` of recipe + secret + runtime + now),
product.md §3. Here the context is a :class:`CredentialState`; the clock
and the random draw are arguments, the HTTP side is an
:class:`~renewer.primitives.http.Http`.

What a primitive decides and does:

* :meth:`Primitive.needs_refresh` is pure: state, ``now``, a draw in [0, 1)
  and the credential's ``refresh_at`` fraction in; a :class:`Plan` out
  (``KEEP``, ``REFRESH``, or ``REAUTH`` when only a person can help);
* :meth:`Primitive.refresh` talks to the service and returns the new
  :class:`RuntimeState`. It never stores anything: the caller persists the
  result before anyone uses it (a rotated refresh token must not be lost);
* :meth:`Primitive.authenticate` puts the credential on a prepared request
  (the recipe's ``inject`` block, by default);
* :meth:`Primitive.test` runs the recipe's ``test`` call.

``service_account`` (a JWT exchange, or AWS STS session credentials) and
``mtls`` (a reissue from Vault PKI) keep their kind-specific runtime values
in :attr:`RuntimeState.extra`; the secret ones among them are listed in
:data:`SECRET_EXTRAS` and registered for redaction whenever they are loaded.
A primitive may also add template values (:meth:`Primitive.values`), check a
secret before it is stored (:meth:`Primitive.check_secret`), give requests a
transport of its own (:meth:`Primitive.adapter`, a client certificate), and
say that a 401 is worth one forced refresh (``retry_on_401``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from renewer import redact
from renewer.core.secret import Secret
from renewer.errors import CredentialError
from renewer.recipes.model import Recipe
from renewer.secretstore.base import Record
from renewer.template import Values

if TYPE_CHECKING:
    import requests
    import requests.adapters

    from renewer.primitives.http import Http


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


class Action(Enum):
    KEEP = "keep"
    REFRESH = "refresh"
    REAUTH = "reauth"  # only a person can help (`renewer auth login NAME`)


@dataclass(frozen=True, slots=True)
class Plan:
    """What :meth:`Primitive.needs_refresh` decided, and why (for logs and status)."""

    action: Action
    reason: str
    due_at: float | None = None
    warning: str = ""  # usable now, but a person should act soon (a certificate expiring)


@dataclass(frozen=True, slots=True)
class TestResult:
    """The outcome of a recipe's test call."""

    passed: bool
    status: int | None = None
    problems: tuple[str, ...] = ()
    skipped: bool = False  # the recipe has no test

    __test__ = False  # not a pytest test class, despite the name


class Primitive:
    """Base class with the behaviour most primitives share (see the module docstring)."""

    name: ClassVar[str] = ""
    retry_on_401: ClassVar[bool] = False  # a 401 may mean "refresh me" (a revoked access token)
    reauth_words: ClassVar[str] = "to authorize it again"  # "needs a person ..."

    def needs_refresh(
        self, state: CredentialState, *, now: float, draw: float, fraction: float
    ) -> Plan:
        """A static credential never needs a refresh."""
        return Plan(Action.KEEP, "static")

    def refresh(self, state: CredentialState, *, http: Http) -> RuntimeState:
        """Nothing to refresh by default."""
        return state.runtime

    def authenticate(self, request: requests.PreparedRequest, state: CredentialState) -> None:
        """Apply the recipe's ``inject`` block to *request*."""
        from renewer.primitives.inject import apply_injection, plan_injection

        apply_injection(request, plan_injection(state))

    def test(self, state: CredentialState, *, http: Http) -> TestResult:
        """Run the recipe's ``test`` call with this credential."""
        from renewer.primitives.checks import run_recipe_test

        return run_recipe_test(self, state, http=http)

    def values(self, state: CredentialState) -> Values:
        """What templates of sinks see; primitives may add runtime values."""
        return state.values()

    def check_secret(self, name: str, recipe: Recipe, values: Mapping[str, str]) -> None:
        """Refuse values that cannot work (``CredentialError``), before they are stored."""

    def secret_warnings(
        self, name: str, recipe: Recipe, values: Mapping[str, str], *, now: float
    ) -> tuple[str, ...]:
        """Problems worth saying about values that are stored anyway (an expired certificate)."""
        return ()

    def has_test(self, recipe: Recipe) -> bool:
        """Whether :meth:`test` checks anything (by default: the recipe has a test)."""
        return recipe.test is not None

    def expires_at(self, state: CredentialState) -> float | None:
        """When what the credential holds stops working, if known (for status)."""
        return state.runtime.expires_at

    def after_new_secret(self, runtime: RuntimeState, changed: frozenset[str]) -> RuntimeState:
        """What of *runtime* still holds once the secret fields *changed* have new values.

        Whatever was made from an old value (an access token fetched with the
        old client secret, a session signed with the old key) must not be
        tested in place of the new one. By default nothing is derived.
        """
        return runtime

    def refreshes_after_expiry(self, state: CredentialState) -> bool:
        """Whether the next run renews this credential even after :meth:`expires_at` has passed.

        True when a new one is made from something that outlives it (a refresh
        token, a stored key, Vault PKI); ``status`` then does not count the
        expiry of what the sinks hold as a reason for a person to look.
        """
        return False

    def adapter(self, state: CredentialState) -> requests.adapters.HTTPAdapter | None:
        """A transport for requests to the service (e.g. with a client certificate)."""
        return None

    def default_sink_value(self, recipe: Recipe) -> str:
        """What a ``file`` sink without ``value`` holds: the first secret field."""
        for item in recipe.required_secrets:
            if item.secret:
                return f"{{{{secret.{item.key}}}}}"
        raise CredentialError(
            f"recipe {recipe.service} has no secret field to write to a sink by default",
            hint="give the sink a value: template",
        )

    def reauth_command(self, name: str, recipe: Recipe) -> str:
        """The exact command a person runs when this credential needs them."""
        return f"renewer creds set {name}"
