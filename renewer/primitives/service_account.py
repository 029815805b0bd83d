"""``service_account``: machine identities that mint their own short-lived credentials.

Seed 004 §3.3, issue 6. Three kinds behind the one Primitive interface:

* ``google_jwt`` — a pasted service-account JSON key signs an RS256
  assertion (``iss`` = ``client_email``, ``aud``, ``scope``, ``sub`` for
  domain-wide delegation); the token endpoint trades it for an access
  token (:mod:`.jwt_bearer`);
* ``generic_jwt`` — the same for any RFC 7523 JWT-bearer issuer, RS256 or
  ES256, claims and form parameters from the recipe's ``token_exchange``;
* ``aws_sigv4`` — each request is signed with SigV4 (:mod:`.aws`); with
  ``aws.sts`` the primitive keeps STS session credentials
  (``AssumeRole`` / ``GetSessionToken``) fresh and offers them to sinks,
  e.g. an ``aws_profile`` sink in ``~/.aws/credentials``.

Access tokens and sessions are refreshed ahead of expiry by the same pure
window as OAuth2 (:func:`renewer.core.refresh.check_refresh`, the
credential's ``refresh_at``). Nothing here stores anything: the caller
persists the new runtime state before it is used. A refused key marks the
credential as needing a person; ``renewer creds set NAME`` with a working
key clears the mark.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from renewer.core.refresh import check_refresh
from renewer.errors import CredentialError
from renewer.primitives.base import Action, CredentialState, Plan, Primitive, RuntimeState
from renewer.recipes.model import JWT_KINDS, Recipe
from renewer.template import Values

if TYPE_CHECKING:
    import requests

    from renewer.primitives.http import Http


class ServiceAccount(Primitive):
    """Google and RFC 7523 JWT-bearer accounts, and AWS keys (SigV4, STS sessions)."""

    name = "service_account"
    retry_on_401 = True  # a JWT access token may be revoked early; a new one costs nothing
    reauth_words = "to store a working key"

    def needs_refresh(
        self, state: CredentialState, *, now: float, draw: float, fraction: float
    ) -> Plan:
        runtime = state.runtime
        if runtime.needs_reauth:
            return Plan(Action.REAUTH, runtime.reauth_reason or "the stored key was refused")
        if state.recipe.kind == "aws_sigv4" and (
            state.recipe.aws is None or state.recipe.aws.sts is None
        ):
            return Plan(Action.KEEP, "static")
        decision = check_refresh(
            now=now,
            has_token=runtime.access_token is not None,
            issued_at=runtime.issued_at,
            expires_at=runtime.expires_at,
            fraction=fraction,
            draw=draw,
        )
        action = Action.REFRESH if decision.due else Action.KEEP
        return Plan(action, decision.reason, decision.due_at)

    def refresh(self, state: CredentialState, *, http: Http) -> RuntimeState:
        kind = state.recipe.kind
        if kind in JWT_KINDS:
            from renewer.primitives.jwt_bearer import exchange, signing_key

            secret = {key: value.reveal() for key, value in state.secret.items()}
            key = signing_key(state.name, state.recipe, secret)
            return exchange(state, key, http=http, reauth=refused_assertion_hint(state))
        if kind == "aws_sigv4":
            from renewer.primitives.aws_sts import request_session

            return request_session(state, http=http)
        raise _unknown_kind(state.name, state.recipe)

    def authenticate(self, request: requests.PreparedRequest, state: CredentialState) -> None:
        """JWT kinds: the recipe's ``inject``; AWS: ``inject`` (if any), then SigV4 last."""
        if not state.recipe.inject.empty:
            super().authenticate(request, state)
        if state.recipe.kind == "aws_sigv4":
            from renewer.primitives.aws import effective_keys, region_of, sign, spec_of

            sign(
                request,
                effective_keys(state),
                service=spec_of(state).service,
                region=region_of(state),
            )

    def values(self, state: CredentialState) -> Values:
        values = state.values()
        if state.recipe.kind != "aws_sigv4":
            return values
        from renewer.primitives.aws import effective_keys, profile_values

        runtime = {
            key: value for key, value in values["runtime"].items() if not key.startswith("aws_")
        }
        runtime.update(profile_values(effective_keys(state)))
        return {**values, "runtime": runtime}

    def check_secret(self, name: str, recipe: Recipe, values: Mapping[str, str]) -> None:
        """Keys must load before they are stored (the JSON blob, the PEM key)."""
        if recipe.kind in JWT_KINDS:
            from renewer.primitives.jwt_bearer import signing_key

            signing_key(name, recipe, values)
        elif recipe.kind == "aws_sigv4":
            key_id = values.get("access_key_id", "")
            if key_id and (not key_id.isalnum() or not 16 <= len(key_id) <= 128):
                raise CredentialError(
                    f"{name}: access_key_id: not an AWS access key id (16-128 letters and "
                    "digits, like AKIA...); nothing was stored",
                    hint=f"renewer creds set {name}",
                )

    def after_new_secret(self, runtime: RuntimeState, changed: frozenset[str]) -> RuntimeState:
        """Every token and session was made with the stored key: a new value voids them all."""
        return RuntimeState() if changed else runtime

    def refreshes_after_expiry(self, state: CredentialState) -> bool:
        """The stored key mints the next token or session, however late."""
        return True

    def default_sink_value(self, recipe: Recipe) -> str:
        if recipe.kind == "aws_sigv4":
            return "{{runtime.aws_access_key_id}}"
        return "{{runtime.access_token}}"


def refused_assertion_hint(state: CredentialState) -> str:
    """What to do when a token endpoint refuses an assertion: the key, or the recipe's claims."""
    service = state.recipe.service
    return (
        f"renewer creds set {state.name} if the key was replaced or deleted; if the key is "
        f"right, the endpoint refused the claims recipe {service} makes (iss, sub, aud, "
        f"scope): compare them with what it expects, `renewer recipes show {service}` "
        "(a fixed recipe is tried again by the next run)"
    )


def _unknown_kind(name: str, recipe: Recipe) -> CredentialError:
    return CredentialError(
        f"{name}: recipe {recipe.service} has service_account kind {recipe.kind!r}, "
        "which this renewer does not know",
        hint="use google_jwt, generic_jwt or aws_sigv4",
    )
