"""JWT-bearer service accounts: Google's (a pasted JSON key) and any RFC 7523 issuer.

Seed 004 §3.3. The assertion's claims are planned by the pure
:func:`renewer.core.jwt_claims.plan_assertion`; this module loads the key,
signs with joserfc (RS256 or ES256), and trades the assertion at the
recipe's ``token_exchange.endpoint`` (form ``grant_type=urn:ietf:params:
oauth:grant-type:jwt-bearer&assertion=...``). The answer is parsed as
strictly as an OAuth2 token answer (``checked_answer``): an HTML page or a
body without ``access_token`` is reported, never stored; ``invalid_grant``
(a deleted key, a clock far off, a subject not delegated) needs a person
and marks the credential; 5xx and 429 are retried, then exit 75.

Keys are checked before use, and before ``renewer creds set`` stores them:
a blob that is not JSON, is not a ``service_account`` key, lacks
``client_email`` or ``private_key``, or holds a key of the wrong type, is a
``CredentialError`` naming the credential and the field, with the command
that fixes it. No message ever contains key material; the private key and
each assertion are registered for redaction the moment they are read or made.

Google's JSON also has ``token_uri``; it is not used: the recipe's
endpoint, which passed the domain rule, is where a signed assertion goes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from renewer import redact
from renewer.core.jwt_claims import AssertionProblem, plan_assertion
from renewer.core.secret import Secret
from renewer.errors import CredentialError
from renewer.primitives.base import CredentialState, RuntimeState, register_secret
from renewer.primitives.token_endpoint import checked_answer
from renewer.recipes.model import Recipe
from renewer.recipes.oauth_params import JWT_BEARER_PROTOCOL_PARAMS, protocol_params_in
from renewer.recipes.parts import TokenExchangeSpec
from renewer.template import TemplateError, render

if TYPE_CHECKING:
    import requests

    from renewer.primitives.http import Http

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_BLOB_FIELDS = ("client_email", "private_key_id", "client_id", "project_id", "token_uri")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key ready to sign, its key id, and the claim values the key file offers."""

    key: Any = field(repr=False)  # a cryptography private key
    algorithm: str
    key_id: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)  # e.g. client_email (not secret)


def _problem(name: str, where: str, what: str, *, json_blob: bool = False) -> CredentialError:
    hint = f"renewer creds set {name}"
    if json_blob:
        hint += " --stdin < the-key.json   (the whole file, as downloaded)"
    return CredentialError(f"{name}: {where}: {what}; nothing was sent", hint=hint)


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else "a value"


def load_pem_key(name: str, where: str, pem: str, algorithm: str) -> Any:
    """A private key from PEM text that fits *algorithm* (RS256: RSA; ES256: EC P-256)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    register_secret(pem)
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise _problem(
            name, where, "not a PEM private key (or one protected by a password)"
        ) from None
    except Exception:  # UnsupportedAlgorithm and friends
        raise _problem(name, where, "a private key of a kind this renewer cannot use") from None
    if algorithm == "RS256":
        if not isinstance(key, rsa.RSAPrivateKey):
            raise _problem(name, where, "not an RSA key, and the recipe signs with RS256")
        if key.key_size < 2048:
            raise _problem(
                name, where, f"an RSA key of {key.key_size} bits; RS256 needs 2048 or more"
            )
    if algorithm == "ES256" and not (
        isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    ):
        raise _problem(name, where, "not an EC P-256 key, and the recipe signs with ES256")
    return key


def google_key(name: str, field_name: str, blob: str) -> SigningKey:
    """The signing key and the non-secret fields of a pasted service-account JSON."""
    register_secret(blob)
    try:
        document = json.loads(blob)
    except json.JSONDecodeError as exc:
        where = f"not valid JSON (line {exc.lineno}, column {exc.colno})"
        raise _problem(name, field_name, where, json_blob=True) from None
    except ValueError:
        raise _problem(name, field_name, "not valid JSON", json_blob=True) from None
    if not isinstance(document, dict):
        raise _problem(
            name, field_name, f"JSON {_kind(document)}, not a key object", json_blob=True
        )
    kind = document.get("type")
    if kind is not None and kind != "service_account":
        shown = "".join(ch for ch in str(kind) if ch.isprintable())[:40]
        raise _problem(
            name,
            field_name,
            f"a {shown!r} credential, not a service-account key (type 'service_account')",
            json_blob=True,
        )
    for key in ("client_email", "private_key"):
        if not isinstance(document.get(key), str) or not document[key]:
            raise _problem(name, field_name, f"the JSON has no {key!r}", json_blob=True)
    private_key = load_pem_key(name, f"{field_name}.private_key", document["private_key"], "RS256")
    fields = {key: document[key] for key in _BLOB_FIELDS if isinstance(document.get(key), str)}
    return SigningKey(
        key=private_key,
        algorithm="RS256",
        key_id=fields.get("private_key_id", ""),
        fields=fields,
    )


def signing_key(name: str, recipe: Recipe, secret: Mapping[str, str]) -> SigningKey:
    """The key of a google_jwt or generic_jwt credential, checked (``CredentialError``)."""
    spec = _spec(name, recipe)
    if recipe.kind == "google_jwt":
        blob = recipe.json_blob_field()
        key_field = blob.key if blob is not None else "service_account_json"
        if not secret.get(key_field):
            raise _problem(name, key_field, "missing from the stored secret", json_blob=True)
        return google_key(name, key_field, secret[key_field])
    pem = secret.get(spec.key_from_secret)
    if not pem:
        raise _problem(name, spec.key_from_secret, "missing from the stored secret")
    key = load_pem_key(name, spec.key_from_secret, pem, spec.algorithm)
    key_id = secret.get(spec.key_id_from_secret, "") if spec.key_id_from_secret else ""
    return SigningKey(key=key, algorithm=spec.algorithm, key_id=key_id)


def _spec(name: str, recipe: Recipe) -> TokenExchangeSpec:
    spec = recipe.token_exchange
    if spec is None:
        raise CredentialError(f"{name}: recipe {recipe.service} has no token_exchange.endpoint")
    refused = protocol_params_in(spec.params, JWT_BEARER_PROTOCOL_PARAMS)  # schema: too
    if refused:
        raise CredentialError(
            f"{name}: recipe {recipe.service} sets OAuth protocol parameters renewer sets "
            f"itself: {', '.join(refused)}",
            hint=f"remove them from token_exchange.params of recipe {recipe.service}",
        )
    return spec


def _lookup(key: SigningKey, secret: Mapping[str, str], field_name: str) -> str:
    """A claim value: the key file's field first, then the stored secret's."""
    if not field_name:
        return ""
    return key.fields.get(field_name) or secret.get(field_name, "")


def assertion(state: CredentialState, key: SigningKey, *, now: float) -> str:
    """A signed assertion for *state*'s recipe, valid from *now*."""
    from joserfc import jwt
    from joserfc.jwk import ECKey, RSAKey

    name, spec = state.name, _spec(state.name, state.recipe)
    secret = {field_name: value.reveal() for field_name, value in state.secret.items()}
    issuer = _lookup(key, secret, spec.issuer_from_secret)
    if not issuer:
        raise _problem(name, spec.issuer_from_secret or "issuer", "no value for the issuer (iss)")
    try:
        extra = {claim: render(text, state.values()) for claim, text in spec.claims.items()}
        plan = plan_assertion(
            issuer=issuer,
            audience=spec.audience,
            now=now,
            ttl=spec.ttl_seconds,
            algorithm=key.algorithm,
            subject=_lookup(key, secret, spec.subject_from_secret) or None,
            scopes=spec.scopes,
            scope_in_assertion=spec.scope_in == "assertion",
            key_id=key.key_id or None,
            jti=secrets.token_urlsafe(16) if state.recipe.kind == "generic_jwt" else None,
            extra=extra,
            subject_is_issuer=state.recipe.kind == "generic_jwt",
        )
    except (AssertionProblem, TemplateError) as exc:
        raise CredentialError(
            f"{name}: cannot build the JWT assertion: {exc}",
            hint=f"check recipe {state.recipe.service}'s token_exchange",
        ) from None
    jwk = RSAKey.import_key(key.key) if key.algorithm == "RS256" else ECKey.import_key(key.key)
    token = jwt.encode(dict(plan.header), dict(plan.claims), jwk, algorithms=[key.algorithm])
    redact.register(token)
    return token


def exchange(state: CredentialState, key: SigningKey, *, http: Http, reauth: str) -> RuntimeState:
    """Trade a fresh assertion for an access token; the caller stores the result."""
    from renewer.core.domains import host_of

    spec = _spec(state.name, state.recipe)
    answers = []

    def once() -> None:
        form = {"grant_type": GRANT_TYPE, "assertion": assertion(state, key, now=http.now())}
        if spec.scope_in == "form" and spec.scopes:
            form["scope"] = " ".join(dict.fromkeys(spec.scopes))
        form.update(_params(state, spec))
        response: requests.Response = http.session.post(
            spec.endpoint,
            data=form,
            headers={"Accept": "application/json"},
            timeout=http.policy.timeout,
            allow_redirects=False,
        )
        with response:
            answers.append(
                checked_answer(state.name, response, reauth=reauth, what="token_exchange.endpoint")
            )

    host = host_of(spec.endpoint) or "the token endpoint"
    http.retrying(once, what=f"{state.name}: token request to {host}")
    answer = answers[-1]
    now = http.now()
    return RuntimeState(
        access_token=Secret(answer.access_token),
        token_type=answer.token_type,
        scope=answer.scope,
        issued_at=now,
        expires_at=None if answer.expires_in is None else now + answer.expires_in,
    )


def _params(state: CredentialState, spec: TokenExchangeSpec) -> dict[str, str]:
    try:
        return {name: render(text, state.values()) for name, text in spec.params.items()}
    except TemplateError as exc:
        raise CredentialError(
            f"{state.name}: cannot build the token request: {exc}",
            hint=f"renewer creds set {state.name}",
        ) from None
