"""``renewer.bind("notion", "prod")``: a ``requests.Session`` that is that credential.

Seed 004 §7 (``AuthBroker.bind`` → an authenticated client whose paths are
relative to ``base_url``), product.md §3. The session:

* resolves relative paths against the recipe's ``base_url``
  (``/users/me`` → ``https://api.notion.com/v1/users/me``);
* refuses an absolute URL on another host (or a downgrade to http), and a
  redirect to one, unless the host is in ``recipes.allow_domains``: a
  credential must not leak to another host;
* authenticates every request it sends (redirect hops included), refreshing
  first when the credential is due, under the same lock and persist-first
  protocol as ``renewer run``;
* on a 401, refreshes once and resends once (OAuth2), then returns what the
  service says;
* sets a default timeout, since requests has none.

Usage::

    import renewer
    with renewer.bind("notion", "prod") as notion:
        me = notion.get("/users/me").json()
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from renewer.core.domains import check_same_host
from renewer.credentials.handle import Credential, open_credential
from renewer.credentials.spec import CredentialSpec, CredentialsSection
from renewer.errors import ConfigError, CredentialError
from renewer.primitives.base import CredentialState
from renewer.primitives.checks import join_url
from renewer.primitives.http import Http

if TYPE_CHECKING:
    from renewer.config import Config
    from renewer.secretstore import KVBackendFactory


class BoundSession(requests.Session):
    """A session authenticated as one credential; see the module docstring."""

    def __init__(self, credential: Credential, *, allow_hosts: Collection[str] = ()) -> None:
        super().__init__()
        self.credential = credential
        self.base_url = credential.recipe.base_url
        self.allow_hosts = tuple(allow_hosts)
        self.default_timeout = credential.http.policy.timeout
        self._transport_identity: object = None

    def resolve(self, url: str) -> str:
        """*url* made absolute against ``base_url``; another host is a ``CredentialError``."""
        if "://" not in url:
            return join_url(self.base_url, url)
        self._check_host(url)
        return url

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        text = url.decode() if isinstance(url, bytes) else url
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, self.resolve(text), *args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Authenticate and send; every redirect hop comes back through here."""
        self._check_host(request.url or "")
        fresh = self.credential.ensure_fresh()
        self._mount_transport(fresh.state)
        self.credential.authenticate(request, fresh.state)
        response = super().send(request, **kwargs)
        if response.status_code != 401 or not self.credential.primitive.retry_on_401:
            return response
        again = self.credential.ensure_fresh(force=True)
        if (
            not again.refreshed
            and again.state.runtime.access_token == fresh.state.runtime.access_token
        ):
            return response
        response.close()
        retry = request.copy()
        self.credential.authenticate(retry, again.state)
        return super().send(retry, **kwargs)

    def _mount_transport(self, state: CredentialState) -> None:
        """Give the base URL's origin the primitive's transport (a client certificate)."""
        identity = (state.runtime.extra.get("serial"), state.runtime.issued_at)
        if identity == self._transport_identity:
            return
        adapter = self.credential.primitive.adapter(state)
        if adapter is not None:
            parts = urlsplit(self.base_url)
            self.mount(f"{parts.scheme}://{parts.netloc}", adapter)
        self._transport_identity = identity

    def _check_host(self, url: str) -> None:
        problem = check_same_host(url, base_url=self.base_url, allow=self.allow_hosts)
        if problem:
            raise CredentialError(
                f"{self.credential.name}: refusing to send the credential: {problem}",
                hint="use a path relative to the base URL, or add the host to "
                "recipes.allow_domains if it really belongs to the service",
            )


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
    return BoundSession(credential, allow_hosts=config.credentials.recipes.allow_domains)
