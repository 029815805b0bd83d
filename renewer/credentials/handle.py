"""A configured credential, opened: spec + recipe + primitive + store, and the refresh protocol.

Everything that uses a credential goes through :class:`Credential`: the run
(:mod:`.runner`), ``renewer.bind`` sessions, ``renewer creds test|call``
and ``renewer auth login``. That is what makes the refresh protocol hold
for all of them at once:

1. read the runtime state and decide (pure: the primitive's ``needs_refresh``);
2. when due, take the credential's lock (bounded wait, exit 75 when busy);
3. re-read and decide again: another process may have refreshed meanwhile,
   and then its token is used; ten concurrent callers cause one refresh;
4. refresh, then **persist the new state (rotated refresh token included)
   before returning it**: if persisting fails, the new token is not used and
   the error says the grant may need a new login;
5. release. ``invalid_grant`` marks the stored state as needing a new login,
   so ``creds list`` and ``status`` show it until ``renewer auth login NAME``.

A handle is opened from the config by :mod:`renewer.credentials.opening`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from renewer import crashpoints, redact
from renewer.core.secret import Secret
from renewer.credentials.refresh_lock import held
from renewer.credentials.spec import CredentialSpec
from renewer.errors import CredentialError, CredentialReauthRequired, RenewerError
from renewer.primitives.base import (
    Action,
    CredentialState,
    Plan,
    Primitive,
    RuntimeState,
    RuntimeStateDamaged,
    TestResult,
)
from renewer.primitives.http import Http
from renewer.recipes.model import Recipe
from renewer.secretstore.base import Namespace, SecretStore, is_label, replace_with

if TYPE_CHECKING:
    import requests


log = structlog.get_logger("renewer")


@dataclass(frozen=True, slots=True)
class Fresh:
    """The state to use now, whether this call refreshed it, and the plan that led there."""

    state: CredentialState
    refreshed: bool
    plan: Plan


@dataclass(frozen=True, slots=True)
class Checked:
    """A test's result, with the state it was run with and whether a 401 caused a refresh."""

    state: CredentialState
    result: TestResult
    refreshed: bool


class Credential:
    """One credential, ready to decide, refresh, authenticate and test."""

    def __init__(
        self,
        spec: CredentialSpec,
        recipe: Recipe,
        primitive: Primitive,
        store: SecretStore,
        *,
        http: Http,
        lock_file: Path,
        lock_timeout: float = 30.0,
    ) -> None:
        self.spec = spec
        self.recipe = recipe
        self.primitive = primitive
        self.store = store
        self.http = http
        self.lock_file = lock_file
        self.lock_timeout = lock_timeout

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def reauth_command(self) -> str:
        return self.primitive.reauth_command(self.name, self.recipe)

    # --- reading ------------------------------------------------------------

    def secret(self) -> dict[str, Secret]:
        """The stored secret; a missing one is a ``CredentialError`` with the command to set it.

        A recipe whose fields are all optional (an mtls credential renewed from
        PKI) needs nothing stored: its secret is then empty.
        """
        record = self.store.read(self.spec.secret, Namespace.SECRET)
        if not record and all(item.optional for item in self.recipe.required_secrets):
            return {}
        if not record:
            raise CredentialError(
                f"{self.name}: no secret stored for {self.spec.secret} in the "
                f"{self.store.kind} store",
                hint=f"renewer creds set {self.name}",
            )
        redact.register(*secret_values(self.recipe, record))
        return {key: Secret(value) for key, value in record.items()}

    def runtime(self) -> RuntimeState:
        """The stored runtime state (empty when there is none yet).

        A needs-a-person mark set while the recipe was different is void: the
        refusal may have been the recipe's (its claims, its URLs), so the
        changed recipe gets one try, and is marked again if it is refused.
        """
        record = self.store.read(self.spec.secret, Namespace.RUNTIME)
        try:
            return RuntimeState.from_record(record).for_recipe(self.recipe.fingerprint)
        except RuntimeStateDamaged as exc:
            raise CredentialError(
                f"{self.name}: the stored runtime state of {self.spec.secret} is damaged ({exc})",
                hint=self.reauth_command,
            ) from None

    def state(self) -> CredentialState:
        return CredentialState(self.name, self.recipe, self.secret(), self.runtime())

    def plan(self, state: CredentialState, *, draw: float | None = None) -> Plan:
        """The primitive's decision for *state* now (pure; the clock and draw are injected)."""
        return self.primitive.needs_refresh(
            state,
            now=self.http.now(),
            draw=self.http.rng.random() if draw is None else draw,
            fraction=self.spec.refresh_at,
        )

    # --- the refresh protocol -----------------------------------------------

    def ensure_fresh(self, *, force: bool = False) -> Fresh:
        """A state whose access token may be used now; refresh under the lock when due.

        *force* refreshes even if the token looks fresh (the service answered
        401), unless another process replaced the token meanwhile.
        """
        state = self.state()
        draw = self.http.rng.random()
        plan = self.plan(state, draw=draw)
        if plan.action is Action.REAUTH:
            raise self.reauth_error(plan.reason)
        if plan.action is Action.KEEP and not force:
            return Fresh(state, refreshed=False, plan=plan)
        with held(self.lock_file, timeout=self.lock_timeout, what=f"credential {self.name}"):
            current = replace(state, runtime=self.runtime())
            again = self.plan(current, draw=draw)
            if again.action is Action.REAUTH:
                raise self.reauth_error(again.reason)
            replaced = current.runtime.access_token != state.runtime.access_token
            if (again.action is Action.KEEP and not force) or (force and replaced):
                return Fresh(current, refreshed=False, plan=again)
            runtime = self._refresh(current)
        if runtime is current.runtime:  # a primitive with nothing to refresh (static_key)
            return Fresh(current, refreshed=False, plan=again)
        log.info(
            "credential.refreshed",
            credential=self.name,
            reason=again.reason,
            expires_in=_remaining(runtime, self.http.now()),
        )
        return Fresh(replace(current, runtime=runtime), refreshed=True, plan=again)

    def _refresh(self, state: CredentialState) -> RuntimeState:
        try:
            runtime = self.primitive.refresh(state, http=self.http)
        except CredentialReauthRequired as error:
            self._mark_reauth(error.message)
            raise
        if runtime is state.runtime:
            return runtime  # nothing new to store
        crashpoints.reached("credential.refreshed")  # issued, not yet stored: the one gap
        self.save_runtime(runtime, after=f"new credentials were issued for {self.name}")
        crashpoints.reached("credential.stored")
        return runtime

    def save_runtime(self, runtime: RuntimeState, *, after: str) -> None:
        """Persist *runtime* (fsynced, or cas-written) before anyone uses it."""
        try:
            self.store.update(
                self.spec.secret, Namespace.RUNTIME, replace_with(runtime.to_record())
            )
        except (RenewerError, OSError) as exc:
            reason = exc.message if isinstance(exc, RenewerError) else exc.__class__.__name__
            rotated = ", and the previous refresh token may no longer work"
            raise CredentialError(
                f"{self.name}: {after}, but they could not be stored ({reason}); "
                f"they were not used{rotated if runtime.refresh_token else ''}",
                hint=f"fix the store, then {self.reauth_command}",
            ) from None

    def _mark_reauth(self, reason: str) -> None:
        """Flag the stored state so `creds list` and `status` show it; best effort."""

        def mark(record: dict[str, str] | None) -> dict[str, str]:
            try:
                current = RuntimeState.from_record(record)
            except RuntimeStateDamaged:
                current = RuntimeState()
            return current.marked_for_reauth(
                redact.scrub(reason)[:300], recipe=self.recipe.fingerprint
            ).to_record()

        with contextlib.suppress(RenewerError, OSError):
            self.store.update(self.spec.secret, Namespace.RUNTIME, mark)

    def reauth_error(self, reason: str) -> CredentialReauthRequired:
        """The error for a credential only a person can bring back, with the command."""
        return CredentialReauthRequired(
            f"{self.name}: needs a person {self.primitive.reauth_words} ({reason})",
            hint=self.reauth_command,
        )

    # --- using it -----------------------------------------------------------

    def authenticate(self, request: requests.PreparedRequest, state: CredentialState) -> None:
        self.primitive.authenticate(request, state)

    def test(self, state: CredentialState) -> TestResult:
        return self.primitive.test(state, http=self.http)

    def checked(self, state: CredentialState, *, refreshed: bool = False) -> Checked:
        """Test *state*; on a 401 with a token that was not just refreshed, refresh once and retest.

        A service may revoke an access token before its expiry (a password
        change, an admin action): one forced refresh tells that apart from a
        dead grant without a person's help.
        """
        result = self.test(state)
        retry = not result.passed and result.status == 401 and not refreshed
        if retry and self.primitive.retry_on_401 and not state.runtime.needs_reauth:
            fresh = self.ensure_fresh(force=True)
            if fresh.refreshed or fresh.state.runtime.access_token != state.runtime.access_token:
                return Checked(fresh.state, self.test(fresh.state), refreshed=fresh.refreshed)
        return Checked(state, result, refreshed=False)

    def default_sink_value(self) -> str:
        return self.primitive.default_sink_value(self.recipe)

    def test_failure_hint(self, result: TestResult) -> str:
        """The command that fixes a failed test: the secret's or the recipe's (expect.blame)."""
        from renewer.core.expect import CREDENTIAL, blame

        spec = self.recipe.test
        expected = spec.expect_status if spec is not None else None
        if blame(result.status, expect_status=expected) == CREDENTIAL:
            return self.reauth_command
        service = self.recipe.service
        return (
            f"the service accepted the request but its answer (HTTP {result.status}) is not what "
            f"recipe {service}'s test expects: compare the test with the service's API, "
            f"`renewer recipes show {service}`"
        )


def secret_values(recipe: Recipe, record: dict[str, str]) -> list[str]:
    """The values of *record* to keep out of output: all but fields declared ``secret: false``.

    A client id or an issuer is printed on purpose (an authorize URL carries
    the client id); masking it would break what it is printed for.
    A rotation's labels (key ids, a version counter: ``is_label``) are not secrets either.
    """
    public = {item.key for item in recipe.required_secrets if not item.secret}
    return [value for key, value in record.items() if key not in public and not is_label(key)]


def _remaining(runtime: RuntimeState, now: float) -> int | None:
    return None if runtime.expires_at is None else int(runtime.expires_at - now)
