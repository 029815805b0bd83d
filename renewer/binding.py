"""``renewer.bind("notion", "prod")``: a ``requests.Session`` that is that credential.

Seed 004 §7 (``AuthBroker.bind`` → an authenticated client whose paths are
relative to ``base_url``), product.md §3, issue 16. The session:

* resolves relative paths against the recipe's ``base_url``
  (``/users/me`` → ``https://api.notion.com/v1/users/me``); only a URL
  that *starts* with ``scheme://`` is absolute, so ``/search?next=https://x``
  is a path;
* is bound to the base URL's **origin** (scheme, host, port): an absolute
  URL on any other origin is refused before anything is sent, unless the
  recipe lists that origin in ``allowed_origins``;
* authenticates every request it sends to its origins, refreshing first
  when the credential is due, under the same lock and persist-first
  protocol as ``renewer run``. The request it is given is never changed:
  the credential goes on a copy, so nothing injected (a header, a query
  key, a body field, a signature) can be carried along to the next hop;
* follows a redirect to another origin (another host, another port, http
  on an https service) **without the credential**, as browsers drop
  ``Authorization`` on a cross-origin hop;
* on a 401, refreshes once and resends once (OAuth2, JWT accounts), then
  returns what the service says;
* raises connection errors whose text names the URL without its query:
  requests would print ``?api_key=<secret>``;
* sets a default timeout, since requests has none.

Usage::

    import renewer
    with renewer.bind("notion", "prod") as notion:
        me = notion.get("/users/me").json()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

from renewer.core.domains import check_origin, is_absolute, origin_of, safe_url
from renewer.credentials.handle import Credential
from renewer.credentials.opening import open_credential
from renewer.credentials.spec import CredentialSpec, CredentialsSection
from renewer.errors import ConfigError, CredentialError
from renewer.primitives.base import CredentialState
from renewer.primitives.checks import join_url
from renewer.primitives.http import Http

if TYPE_CHECKING:
    from renewer.config import Config
    from renewer.secretstore import KVBackendFactory

_HOP = "_renewer_redirect_hop"  # set on the copies requests makes for redirect hops


class BoundSession(requests.Session):
    """A session authenticated as one credential; see the module docstring."""

    def __init__(self, credential: Credential) -> None:
        super().__init__()
        self.credential = credential
        self.base_url = credential.recipe.base_url
        base = origin_of(self.base_url)
        self.origins = frozenset({*([base] if base else []), *credential.recipe.allowed_origins})
        self.default_timeout = credential.http.policy.timeout
        self._transport_identity: object = None

    def resolve(self, url: str) -> str:
        """*url* made absolute against ``base_url``; another origin is a ``CredentialError``."""
        if not is_absolute(url):
            return join_url(self.base_url, url)
        self._check_origin(url)
        return url

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        text = url.decode() if isinstance(url, bytes) else url
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, self.resolve(text), *args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send *request*, the credential on a copy; follow redirects hop by hop through here."""
        allow_redirects = kwargs.pop("allow_redirects", True)
        hop = bool(getattr(request, _HOP, False))
        if not hop:
            self._check_origin(request.url or "")
        response = self._send_one(request, **kwargs)
        if not allow_redirects:
            return response
        history = list(self.resolve_redirects(response, request, **kwargs))
        if history:
            history.insert(0, response)
            response = history.pop()
            response.history = history
        return response

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: Any) -> None:
        """Mark each redirect hop: :meth:`send` decides per hop whether it gets the credential."""
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]
        setattr(prepared_request, _HOP, True)

    def _send_one(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if origin_of(request.url or "") not in self.origins:
            return self._sent(request, **kwargs)  # a cross-origin hop: no credential
        fresh = self.credential.ensure_fresh()
        self._mount_transport(fresh.state)
        response = self._sent(self._authenticated(request, fresh.state), **kwargs)
        if response.status_code != 401 or not self.credential.primitive.retry_on_401:
            return response
        again = self.credential.ensure_fresh(force=True)
        if (
            not again.refreshed
            and again.state.runtime.access_token == fresh.state.runtime.access_token
        ):
            return response
        response.close()
        return self._sent(self._authenticated(request, again.state), **kwargs)

    def _authenticated(
        self, request: requests.PreparedRequest, state: CredentialState
    ) -> requests.PreparedRequest:
        wire = request.copy()
        self.credential.authenticate(wire, state)
        return wire

    def _sent(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """One hop, redirects not followed; a failure's text without the URL's query."""
        try:
            response = super().send(request, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            failure = _without_url(exc, request.url or "")
        else:
            response._next = None  # type: ignore[attr-defined]  # it would hold the credential
            return response
        raise failure  # outside the except block: no __context__ holding the original text

    def _mount_transport(self, state: CredentialState) -> None:
        """Give the base URL's origin the primitive's transport (a client certificate)."""
        identity = (state.runtime.extra.get("serial"), state.runtime.issued_at)
        if identity == self._transport_identity:
            return
        adapter = self.credential.primitive.adapter(state)
        base = origin_of(self.base_url)
        if adapter is not None and base is not None:
            self.mount(f"{base}/", adapter)
        self._transport_identity = identity

    def _check_origin(self, url: str) -> None:
        base = origin_of(self.base_url)
        if origin_of(url) in self.origins and base is not None:
            return
        problem = check_origin(url, base_url=self.base_url, allowed=self.origins)
        raise CredentialError(
            f"{self.credential.name}: refusing to send the credential: {problem}",
            hint="use a path relative to the base URL, or, if that origin really belongs to "
            f"the service, list it in recipe {self.credential.recipe.service}'s allowed_origins",
        )


def _without_url(exc: requests.RequestException, url: str) -> requests.RequestException:
    """The same kind of error, saying where and what without the query or the original text."""
    if isinstance(exc, requests.Timeout):
        what = "no answer in time"
    elif isinstance(exc, requests.ConnectionError):
        what = "could not connect"
    else:
        what = "the request failed"
    return type(exc)(f"{safe_url(url)}: {what} ({type(exc).__name__})")


def find_credential(
    section: CredentialsSection, service: str, instance: str | None = None
) -> CredentialSpec:
    """The credential named *service* (no *instance*), or the one of *service* and *instance*.

    *service* matches a credential's recipe or the service part of its secret ref.
    """
    if instance is None:
        return section.credential(service)
    matches = [
        spec
        for spec in section.credentials
        if spec.secret.instance == instance and service in {spec.recipe, spec.secret.service}
    ]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(f"{s.recipe} {s.secret.instance} ({s.name})" for s in section.credentials)
    if not matches:
        raise ConfigError(
            f"no credential for service {service!r} instance {instance!r} "
            f"(known: {known or 'none'})",
            hint="see `renewer creds list`",
        )
    names = ", ".join(spec.name for spec in matches)
    raise ConfigError(
        f"several credentials match {service} {instance}: {names}",
        hint="bind by credential name instead: renewer.bind(NAME)",
    )


def bind(
    service: str,
    instance: str | None = None,
    *,
    config: Config | None = None,
    http: Http | None = None,
    kv_backend: KVBackendFactory | None = None,
) -> BoundSession:
    """A session authenticated as the credential for *service*/*instance* (or named *service*)."""
    from renewer.secretstore import Stores

    if config is None:
        from renewer.config import load_config

        config = load_config()
    spec = find_credential(config.credentials, service, instance)
    credential = open_credential(
        config, spec, stores=Stores(config, kv_backend=kv_backend), http=http or Http()
    )
    return BoundSession(credential)
