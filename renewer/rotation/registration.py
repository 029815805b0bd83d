"""Register a static secret's value with the platform that signs with it (seed 001).

Seed 001 step 2: "if the platform supports secret regeneration, generate a
new secret" — for a webhook the platform *signs* deliveries, so rotating
means telling it the new value. The recipe of the rotated credential
describes the one call (``register:``, e.g. GitHub's ``PATCH
/repos/{owner}/{repo}/hooks/{hook_id}/config`` with ``secret``); it is sent
through the primitive layer as the credential the rotation names
(``register: {credential: github-api}``), so authentication, refresh and the
same-host rule are the credentials layer's, not ours.

The value travels only in the request body (never the URL, never a log);
path placeholders are URL-quoted. Errors: no answer, 429 or 5xx are
temporary (``ServiceUnavailable``, exit 75: the step is repeated); any other
answer than the expected 2xx, or a credential that cannot be used, is a
:class:`~renewer.errors.RotationHookFailed` naming the call and the status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from renewer.core.secret import Secret
from renewer.errors import RenewerError, RotationHookFailed, ServiceUnavailable, Temporary
from renewer.primitives.checks import join_url
from renewer.recipes.model import Recipe
from renewer.recipes.parts import RegisterSpec
from renewer.redact import scrub
from renewer.secretstore.base import is_label
from renewer.template import Placeholder, TemplateError, parse, render

_BODY_TAIL = 200

SessionFactory = Callable[[], requests.Session]
"""Opens a session authenticated as the registering credential (a ``BoundSession``)."""


def entry_values(values: Mapping[str, Secret], *, field_name: str, value: Secret) -> dict[str, str]:
    """The ``{{secret.*}}`` namespace: the entry's recipe fields, *field_name* = *value*.

    Rotation bookkeeping (``secret.previous``, key ids, the version) is never
    visible to a template: only plain recipe fields, which never hold a dot.
    """
    fields = {
        key: item.reveal() for key, item in values.items() if "." not in key and not is_label(key)
    }
    fields[field_name] = value.reveal()
    return fields


def render_path(template: str, namespaces: Mapping[str, Mapping[str, str]]) -> str:
    """*template* with each placeholder's value URL-quoted (a value cannot add a path segment)."""
    out: list[str] = []
    for piece in parse(template):
        if isinstance(piece, Placeholder):
            found = namespaces.get(piece.namespace, {}).get(piece.key)
            if not found:
                raise TemplateError(f"{piece} has no value here")
            out.append(quote(found, safe=""))
        else:
            out.append(piece)
    return "".join(out)


def render_json(document: Any, namespaces: Mapping[str, Mapping[str, str]]) -> Any:
    """Every string inside *document* rendered; the structure kept as it is."""
    if isinstance(document, str):
        return render(document, namespaces)
    if isinstance(document, Mapping):
        return {key: render_json(item, namespaces) for key, item in document.items()}
    if isinstance(document, list):
        return [render_json(item, namespaces) for item in document]
    return document


@dataclass
class PlatformRegistration:
    """A :data:`~renewer.rotation.targets.static.Register` for one rotation."""

    rotation: str
    field_name: str
    recipe: Recipe  # the rotated credential's: it describes the call
    credential: str  # the name of the credential the call is sent as
    open_session: SessionFactory
    _session: requests.Session | None = field(default=None, repr=False)

    @property
    def spec(self) -> RegisterSpec:
        assert self.recipe.register is not None  # build_static checks it
        return self.recipe.register

    def __call__(self, value: Secret, values: Mapping[str, Secret]) -> None:
        spec = self.spec
        namespaces = {
            "secret": entry_values(values, field_name=self.field_name, value=value),
            "const": dict(self.recipe.const),
        }
        try:
            path = render_path(spec.path, namespaces)
            body = render_json(dict(spec.json), namespaces)
        except TemplateError as exc:
            raise RotationHookFailed(
                f"cannot register the new key of {self.rotation}: the recipe's register call "
                f"needs {exc} (set it with renewer creds set)",
            ) from None
        what = f"{spec.method} {path} as {self.credential}"
        response = self._send(spec.method, join_url(self.recipe.base_url, path), body, what)
        expected = spec.expect_status
        if response.status_code == expected or (expected is None and response.ok):
            return
        if response.status_code == 429 or response.status_code >= 500:
            raise ServiceUnavailable(f"registering the new key: {what}: {response.status_code}")
        tail = scrub(" ".join(response.text.split()))[:_BODY_TAIL]
        raise RotationHookFailed(
            f"registering the new key of {self.rotation} failed: {what} answered "
            f"{response.status_code}" + (f" ({tail})" if tail else ""),
            hint=f"check that {self.credential} may change the webhook and that the entry's "
            f"fields name it; then renewer rotate {self.rotation}",
        )

    def _send(self, method: str, url: str, body: Any, what: str) -> requests.Response:
        try:
            if self._session is None:
                self._session = self.open_session()
            return self._session.request(method, url, json=body, allow_redirects=False)
        except Temporary:
            raise
        except RenewerError as error:
            raise RotationHookFailed(
                f"registering the new key of {self.rotation}: {error.message}", hint=error.hint
            ) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ServiceUnavailable(
                f"registering the new key: {what}: no answer ({type(exc).__name__})"
            ) from None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
