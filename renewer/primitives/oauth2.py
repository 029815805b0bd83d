"""``oauth2``: access tokens from a token endpoint, kept fresh ahead of their expiry.

Seed 004 §3.2; Authlib's requests client builds every token request (grant
bodies, ``client_secret_basic`` / ``client_secret_post`` / ``none`` client
authentication, PKCE S256 challenges). Grants:

* ``authorization_code`` and ``pkce``: a person authorizes once with
  ``renewer auth login NAME``; afterwards the refresh token keeps the access
  token fresh. PKCE is used for both (a confidential client gains from it
  too); ``pkce`` is the public-client variant, without a client secret;
* ``client_credentials``: machine to machine; a new token is fetched when
  due, no person involved.

Every answer passes :func:`~renewer.primitives.tokens.parse_token_response`
before anything else looks at it (through Authlib's compliance hooks), so
an HTML page, a missing ``access_token`` or a string ``expires_in`` is an
error, not a stored token. ``invalid_grant``/``invalid_client`` raise
``CredentialReauthRequired`` with the exact command; 5xx, 429, timeouts and
``temporarily_unavailable`` are retried, then ``ServiceUnavailable``.

This module never stores anything: the caller persists the new state
(rotated refresh token included) before using the new access token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from renewer.core.domains import host_of
from renewer.core.refresh import check_refresh
from renewer.core.secret import Secret
from renewer.errors import CredentialError, CredentialReauthRequired
from renewer.primitives.base import Action, CredentialState, Plan, Primitive, RuntimeState
from renewer.primitives.token_endpoint import checked_answer
from renewer.primitives.tokens import TokenAnswer
from renewer.recipes.model import Recipe
from renewer.recipes.oauth_params import protocol_params_in
from renewer.recipes.parts import OAuthSpec

if TYPE_CHECKING:
    import requests

    from renewer.primitives.http import Http

CODE_GRANTS = frozenset({"authorization_code", "pkce"})


class OAuth2(Primitive):
    """OAuth 2.0 client: refresh, client credentials, and the code exchange for login."""

    name = "oauth2"
    retry_on_401 = True

    def needs_refresh(
        self, state: CredentialState, *, now: float, draw: float, fraction: float
    ) -> Plan:
        runtime = state.runtime
        if runtime.needs_reauth:
            return Plan(Action.REAUTH, runtime.reauth_reason or "marked as needing a new login")
        decision = check_refresh(
            now=now,
            has_token=runtime.access_token is not None,
            issued_at=runtime.issued_at,
            expires_at=runtime.expires_at,
            fraction=fraction,
            draw=draw,
        )
        if not decision.due:
            return Plan(Action.KEEP, decision.reason, decision.due_at)
        if state.recipe.grant == "client_credentials":
            return Plan(Action.REFRESH, decision.reason, decision.due_at)
        if runtime.refresh_token is not None and _spec(state).refresh:
            return Plan(Action.REFRESH, decision.reason, decision.due_at)
        if runtime.access_token is None:
            return Plan(Action.REAUTH, "never authorized")
        return Plan(Action.REAUTH, "the access token is expiring and there is no refresh token")

    def refresh(self, state: CredentialState, *, http: Http) -> RuntimeState:
        spec = _spec(state)
        params = dict(spec.token_params)
        if state.recipe.grant == "client_credentials":
            scope = " ".join(spec.scopes) or None

            def fetch(session: Any, timeout: float) -> None:
                session.fetch_token(
                    spec.token_url,
                    grant_type="client_credentials",
                    scope=scope,
                    timeout=timeout,
                    **params,
                )

            return self._token_request(state, http, fetch)
        refresh_token = state.runtime.refresh_token
        if refresh_token is None:
            raise CredentialReauthRequired(
                f"{state.name}: there is no refresh token to use",
                hint=self.reauth_command(state.name, state.recipe),
            )

        def refresh_grant(session: Any, timeout: float) -> None:
            session.refresh_token(
                spec.token_url, refresh_token=refresh_token.reveal(), timeout=timeout, **params
            )

        return self._token_request(state, http, refresh_grant)

    def authorization_url(
        self, state: CredentialState, *, redirect_uri: str, csrf_state: str, code_verifier: str
    ) -> str:
        """The URL a person opens to authorize (PKCE S256 always)."""
        spec = _spec(state)
        if not spec.authorize_url:
            raise CredentialError(f"{state.name}: the recipe has no oauth.authorize_url")
        session = self._client(state, redirect_uri=redirect_uri)
        try:
            url, _ = session.create_authorization_url(
                spec.authorize_url,
                state=csrf_state,
                code_verifier=code_verifier,
                **dict(spec.authorize_params),
            )
        finally:
            session.close()
        return str(url)

    def exchange_code(
        self,
        state: CredentialState,
        *,
        http: Http,
        code: str,
        code_verifier: str,
        redirect_uri: str,
    ) -> RuntimeState:
        """Trade an authorization code for tokens (the end of ``renewer auth login``)."""
        spec = _spec(state)
        params = dict(spec.token_params)

        def fetch(session: Any, timeout: float) -> None:
            session.fetch_token(
                spec.token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                timeout=timeout,
                **params,
            )

        fresh = self._token_request(state, http, fetch, redirect_uri=redirect_uri)
        return fresh

    def default_sink_value(self, recipe: Recipe) -> str:
        return "{{runtime.access_token}}"

    def after_new_secret(self, runtime: RuntimeState, changed: frozenset[str]) -> RuntimeState:
        """A new client id voids the grant; a new client secret voids the access token only.

        A refresh token belongs to the client, not to its secret: it is kept,
        and the next use refreshes with the new secret, which proves it (or
        is refused). The needs-a-login mark goes too: the new values deserve
        a try.
        """
        if not changed:
            return runtime
        if "client_id" in changed:
            return RuntimeState()
        return RuntimeState(refresh_token=runtime.refresh_token, scope=runtime.scope)

    def refreshes_after_expiry(self, state: CredentialState) -> bool:
        """Client credentials always; code grants while they hold a usable refresh token."""
        if state.recipe.grant == "client_credentials":
            return True
        runtime = state.runtime
        return runtime.refresh_token is not None and _spec(state).refresh

    def reauth_command(self, name: str, recipe: Recipe) -> str:
        if recipe.grant in CODE_GRANTS:
            return f"renewer auth login {name}"
        return f"renewer creds set {name}"

    def _client(
        self,
        state: CredentialState,
        *,
        redirect_uri: str | None = None,
        answer_seconds: float = 30.0,
    ) -> Any:
        from authlib.integrations.requests_client import OAuth2Session

        from renewer.bounded_http import service_session

        spec = _spec(state)
        client_id = state.require("client_id")
        secret = state.secret.get("client_secret")
        if secret is None and state.recipe.grant != "pkce":
            state.require("client_secret")
        if secret is None:
            method = "none"
        else:
            method = "client_secret_post" if spec.client_auth == "body" else "client_secret_basic"
        # Token answers are read capped, like every answer renewer reads.
        return service_session(
            answer_seconds=answer_seconds,
            session=OAuth2Session(
                client_id,
                secret.reveal() if secret is not None else None,
                token_endpoint_auth_method=method,
                scope=" ".join(spec.scopes) or None,
                redirect_uri=redirect_uri,
                code_challenge_method="S256",
            ),
        )

    def _token_request(
        self,
        state: CredentialState,
        http: Http,
        call: Callable[[Any, float], None],
        *,
        redirect_uri: str | None = None,
    ) -> RuntimeState:
        answers: list[TokenAnswer] = []
        reauth = self.reauth_command(state.name, state.recipe)

        def check(response: requests.Response) -> requests.Response:
            answers.append(checked_answer(state.name, response, reauth=reauth))
            return response

        def once() -> None:
            session = self._client(
                state, redirect_uri=redirect_uri, answer_seconds=http.policy.deadline
            )
            session.register_compliance_hook("access_token_response", check)
            session.register_compliance_hook("refresh_token_response", check)
            try:
                call(session, http.policy.timeout)
            finally:
                session.close()

        host = host_of(_spec(state).token_url) or "the token endpoint"
        http.retrying(once, what=f"{state.name}: token request to {host}")
        return _new_state(answers[-1], previous=state.runtime, now=http.now())


def _spec(state: CredentialState) -> OAuthSpec:
    """The recipe's oauth block; protocol parameters in its extras are refused once more.

    The schema refuses them already; a recipe built another way (a future
    loader, a test) must not reach a request with them either.
    """
    spec = state.recipe.oauth
    if spec is None:
        raise CredentialError(f"{state.name}: recipe {state.recipe.service} has no oauth block")
    refused = protocol_params_in(spec.authorize_params) + protocol_params_in(spec.token_params)
    if refused:
        raise CredentialError(
            f"{state.name}: recipe {state.recipe.service} sets OAuth protocol parameters "
            f"renewer sets itself: {', '.join(refused)}",
            hint=f"remove them from the recipe; see `renewer recipes show {state.recipe.service}`",
        )
    return spec


def _new_state(answer: TokenAnswer, *, previous: RuntimeState, now: float) -> RuntimeState:
    """The runtime state after *answer*; a refresh token not sent again is kept (RFC 6749 §6)."""
    refresh = Secret(answer.refresh_token) if answer.refresh_token else previous.refresh_token
    return RuntimeState(
        access_token=Secret(answer.access_token),
        refresh_token=refresh,
        token_type=answer.token_type,
        scope=answer.scope or previous.scope,
        issued_at=now,
        expires_at=None if answer.expires_in is None else now + answer.expires_in,
        extra=previous.extra,
    )
