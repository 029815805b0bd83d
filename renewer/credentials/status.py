"""What each configured credential looks like right now, without touching the network.

Used by ``renewer creds list`` (and meant for ``renewer status``): reads the
recipes and the stores only, so it is safe to run any time. A credential is
*healthy* when no person needs to act: a due refresh is healthy (the next run
does it); a missing secret, a dead grant or a broken recipe is not. Every
unhealthy state carries the exact command that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from renewer.core.duration import format_ttl
from renewer.credentials.handle import Credential
from renewer.credentials.opening import catalog_for, open_credential
from renewer.credentials.spec import CredentialSpec
from renewer.errors import ConfigInvalid, RenewerError
from renewer.primitives.base import Action
from renewer.primitives.http import Http
from renewer.redact import scrub

if TYPE_CHECKING:
    from renewer.config import Config
    from renewer.recipes.loader import RecipeCatalog
    from renewer.secretstore import Stores


@dataclass(frozen=True, slots=True)
class CredentialStatus:
    """One row of ``renewer creds list``."""

    name: str
    recipe: str
    secret: str
    store: str
    # ok | refresh-due | expiring | needs-login | not-authorized | no-secret | recipe-invalid
    # | store-error
    state: str
    detail: str
    healthy: bool
    hint: str = ""
    expires_at: float | None = None


def credential_statuses(
    config: Config, *, http: Http, stores: Stores, catalog: RecipeCatalog | None = None
) -> list[CredentialStatus]:
    """The status of every configured credential (no network)."""
    catalog = catalog or catalog_for(config)
    return [_status(config, spec, http, stores, catalog) for spec in config.credentials.credentials]


@dataclass(frozen=True, slots=True)
class _State:
    state: str
    detail: str
    healthy: bool
    hint: str = ""
    expires_at: float | None = None


def _status(
    config: Config, spec: CredentialSpec, http: Http, stores: Stores, catalog: RecipeCatalog
) -> CredentialStatus:
    found = _state_of(config, spec, http, stores, catalog)
    return CredentialStatus(
        name=spec.name,
        recipe=spec.recipe,
        secret=str(spec.secret),
        store=spec.store,
        state=found.state,
        detail=scrub(found.detail),
        healthy=found.healthy,
        hint=found.hint,
        expires_at=found.expires_at,
    )


def _state_of(
    config: Config, spec: CredentialSpec, http: Http, stores: Stores, catalog: RecipeCatalog
) -> _State:
    try:
        credential = open_credential(config, spec, stores=stores, http=http, catalog=catalog)
    except ConfigInvalid as error:
        return _State(
            "recipe-invalid",
            error.message.splitlines()[0],
            healthy=False,
            hint=f"renewer recipes show {spec.recipe}",
        )
    try:
        return _runtime_state(credential, http)
    except RenewerError as error:
        missing = "no secret stored" in error.message
        return _State(
            "no-secret" if missing else "store-error",
            error.message.splitlines()[0],
            healthy=False,
            hint=error.hint,
        )


def _runtime_state(credential: Credential, http: Http) -> _State:
    state = credential.state()
    if credential.recipe.primitive == "static_key":
        return _State("ok", "static key", healthy=True)
    plan = credential.plan(state, draw=0.0)
    runtime = state.runtime
    expires = credential.primitive.expires_at(state)
    if plan.action is Action.REAUTH:
        never = runtime.access_token is None and not runtime.needs_reauth
        never = never and credential.recipe.primitive == "oauth2"
        return _State(
            "not-authorized" if never else "needs-login",
            plan.reason,
            healthy=False,
            hint=credential.reauth_command,
            expires_at=expires,
        )
    left = "" if expires is None else f"valid for {format_ttl(int(expires - http.now()))}"
    if plan.warning:
        return _State(
            "expiring",
            f"{left}: {plan.warning}" if left else plan.warning,
            healthy=False,
            hint=credential.reauth_command,
            expires_at=expires,
        )
    if plan.action is Action.REFRESH and plan.reason == "no-token":
        return _State("refresh-due", "a token is fetched on the next run", healthy=True)
    if plan.action is Action.REFRESH:
        return _State("refresh-due", left or plan.reason, healthy=True, expires_at=expires)
    return _State("ok", left or "no expiry", healthy=True, expires_at=expires)
