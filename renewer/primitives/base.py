"""The one interface every primitive implements: authenticate, needs-refresh, refresh, test.

Design: seed 004 §6.1 (``Authenticate``, ``NeedsRefresh``, ``Refresh``,
``Test`` over an ``AuthContext`` of recipe + secret + runtime + now),
product.md §3. Here the context is a :class:`CredentialState` (it and
:class:`RuntimeState` live in :mod:`renewer.primitives.state`); the clock
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

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from renewer.errors import CredentialError
from renewer.primitives.state import (
    CredentialState,
    RuntimeState,
    RuntimeStateDamaged,
    register_secret,
)
from renewer.recipes.model import Recipe
from renewer.template import Values

if TYPE_CHECKING:
    import requests
    import requests.adapters

    from renewer.primitives.http import Http

# The state values live in renewer.primitives.state; most callers import them from here.
__all__ = [
    "Action",
    "CredentialState",
    "Plan",
    "Primitive",
    "RuntimeState",
    "RuntimeStateDamaged",
    "TestResult",
    "register_secret",
]


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
