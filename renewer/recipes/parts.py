"""The blocks of a recipe as frozen values (``inject``, ``oauth``, ``test``...), and their builders.

Each ``parse_*`` builds one block from a schema-valid, merged mapping;
:meth:`renewer.recipes.model.Recipe.from_data` assembles them. Its own room:
a primitive reads one block (``OAuthSpec``, ``AwsSpec``...) and needs only
its shape, not the whole recipe's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

TemplatePath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SecretField:
    """One value the user provides (``required_secrets[]``): drives ``creds set`` prompts."""

    key: str
    label: str
    secret: bool = True
    type: str = "text"
    optional: bool = False
    help: str = ""
    help_url: str = ""


@dataclass(frozen=True, slots=True)
class InjectSpec:
    """Where a credential goes on each request (``inject``); values are templates."""

    header: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = None
    digest_auth: tuple[str, str] | None = None  # RFC 7616: answered to the server's challenge

    def templates(self) -> Iterator[tuple[TemplatePath, str]]:
        """Every template with its path in the recipe, for validation."""
        for section in ("header", "query", "body"):
            for name, template in getattr(self, section).items():
                yield ("inject", section, name), template
        for section in ("basic_auth", "digest_auth"):
            pair = getattr(self, section)
            if pair is not None:
                yield ("inject", section, "username"), pair[0]
                yield ("inject", section, "password"), pair[1]

    @property
    def empty(self) -> bool:
        return not (self.header or self.query or self.body or self.basic_auth or self.digest_auth)


@dataclass(frozen=True, slots=True)
class OAuthSpec:
    """The ``oauth`` block of an ``oauth2`` recipe."""

    token_url: str
    authorize_url: str | None = None
    scopes: tuple[str, ...] = ()
    client_auth: str = "header"  # header: client_secret_basic; body: client_secret_post
    refresh: bool = True
    pkce_method: str = "S256"
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    token_params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TokenExchangeSpec:
    """``token_exchange`` of a JWT-bearer service account (``google_jwt``, ``generic_jwt``).

    Names ending in ``_from_secret`` name a field: of the pasted service-account
    JSON first (``google_jwt``), then of the stored secret.
    """

    endpoint: str
    audience: str
    scopes: tuple[str, ...] = ()
    issuer_from_secret: str = ""
    subject_from_secret: str = ""
    key_from_secret: str = "private_key"  # generic_jwt: the PEM private key field
    key_id_from_secret: str = ""  # generic_jwt: the field holding the key id (kid)
    ttl_seconds: int = 3600
    algorithm: str = "RS256"
    scope_in: str = "assertion"  # or "form": a scope parameter of the token request
    claims: Mapping[str, str] = field(default_factory=dict)  # extra claims, templates
    params: Mapping[str, str] = field(default_factory=dict)  # extra form parameters


@dataclass(frozen=True, slots=True)
class StsSpec:
    """``aws.sts``: session credentials from STS with the long-lived key."""

    action: str  # AssumeRole | GetSessionToken
    endpoint: str = "https://sts.amazonaws.com"
    region: str = "us-east-1"
    duration_seconds: int = 3600
    role_arn_from_secret: str = "role_arn"
    external_id_from_secret: str = ""
    role_session_name: str = ""  # default: renewer-<credential name>


@dataclass(frozen=True, slots=True)
class AwsSpec:
    """``aws``: SigV4 signing (service, region) and optional STS session credentials."""

    service: str
    region: str = "us-east-1"
    sts: StsSpec | None = None


@dataclass(frozen=True, slots=True)
class TestSpec:
    """The ``test`` block: one real API call that proves the credential works."""

    method: str
    path: str
    expect_status: int | None = None
    expect_json: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Mapping[str, Any] | None = None
    form: Mapping[str, str] | None = None  # a form body (AWS Query APIs)

    __test__ = False  # not a pytest test class, despite the name


@dataclass(frozen=True, slots=True)
class RegisterSpec:
    """The ``register`` block: the one call that tells the service a secret's new value.

    GitHub's webhook secret, for instance: ``PATCH
    /repos/{{secret.owner}}/{{secret.repo}}/hooks/{{secret.hook_id}}/config`` with
    ``{"secret": "{{secret.secret}}"}``. Templates see the entry being registered.
    """

    method: str
    path: str
    json: Mapping[str, Any] = field(default_factory=dict)
    expect_status: int | None = None  # None: any 2xx

    def templates(self) -> Iterator[tuple[TemplatePath, str]]:
        """The path and every string inside the JSON body, with their places in the recipe."""
        yield ("register", "path"), self.path
        yield from _json_templates(("register", "json"), self.json)


def _json_templates(where: TemplatePath, value: Any) -> Iterator[tuple[TemplatePath, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _json_templates((*where, key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_templates((*where, index), item)


def parse_inject(data: Mapping[str, Any]) -> InjectSpec:
    basic, digest = data.get("basic_auth"), data.get("digest_auth")
    return InjectSpec(
        header=dict(data.get("header", {})),
        query=dict(data.get("query", {})),
        body=dict(data.get("body", {})),
        basic_auth=(basic["username"], basic["password"]) if basic else None,
        digest_auth=(digest["username"], digest["password"]) if digest else None,
    )


def parse_secret_field(data: Mapping[str, Any]) -> SecretField:
    return SecretField(
        key=data["key"],
        label=data.get("label", data["key"]),
        secret=data.get("secret", True),
        type=data.get("type", "text"),
        optional=data.get("optional", False),
        help=data.get("help", ""),
        help_url=data.get("help_url", ""),
    )


def parse_oauth(data: Mapping[str, Any]) -> OAuthSpec:
    return OAuthSpec(
        token_url=data["token_url"],
        authorize_url=data.get("authorize_url"),
        scopes=tuple(data.get("scopes", [])),
        client_auth=data.get("client_auth", "header"),
        refresh=data.get("refresh", True),
        pkce_method=data.get("pkce_method", "S256"),
        authorize_params=dict(data.get("authorize_params", {})),
        token_params=dict(data.get("token_params", {})),
    )


def parse_exchange(data: Mapping[str, Any], kind: str) -> TokenExchangeSpec:
    google = kind == "google_jwt"
    return TokenExchangeSpec(
        endpoint=data["endpoint"],
        audience=data.get("audience", data["endpoint"]),
        scopes=tuple(data.get("scopes", [])),
        issuer_from_secret=data.get("issuer_from_secret", "client_email" if google else ""),
        subject_from_secret=data.get("subject_from_secret", ""),
        key_from_secret=data.get("key_from_secret", "private_key"),
        key_id_from_secret=data.get("key_id_from_secret", ""),
        ttl_seconds=data.get("ttl_seconds", 3600),
        algorithm=data.get("algorithm", "RS256"),
        scope_in=data.get("scope_in", "assertion" if google else "form"),
        claims=dict(data.get("claims", {})),
        params=dict(data.get("params", {})),
    )


def parse_aws(data: Mapping[str, Any]) -> AwsSpec:
    sts = data.get("sts")
    return AwsSpec(
        service=data["service"],
        region=data.get("region", "us-east-1"),
        sts=StsSpec(
            action=sts["action"],
            endpoint=sts.get("endpoint", "https://sts.amazonaws.com"),
            region=sts.get("region", "us-east-1"),
            duration_seconds=sts.get("duration_seconds", 3600),
            role_arn_from_secret=sts.get("role_arn_from_secret", "role_arn"),
            external_id_from_secret=sts.get("external_id_from_secret", ""),
            role_session_name=sts.get("role_session_name", ""),
        )
        if isinstance(sts, Mapping) and "action" in sts
        else None,
    )


def parse_test(data: Mapping[str, Any]) -> TestSpec:
    return TestSpec(
        method=data["method"],
        path=data["path"],
        expect_status=data.get("expect_status"),
        expect_json=data.get("expect_json"),
        headers=dict(data.get("headers", {})),
        json=data.get("json"),
        form=dict(data["form"]) if "form" in data else None,
    )


def parse_register(data: Mapping[str, Any]) -> RegisterSpec:
    return RegisterSpec(
        method=data["method"],
        path=data["path"],
        json=data.get("json", {}),
        expect_status=data.get("expect_status"),
    )
