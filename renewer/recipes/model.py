"""A resolved recipe as frozen values: what the primitives, sinks and commands read.

Built from a schema-valid, ``extends``-merged mapping by :meth:`Recipe.from_data`;
nothing here reads files (that is :mod:`renewer.recipes.loader`). The blocks a
recipe is made of are in :mod:`renewer.recipes.parts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from renewer.core.domains import Origin, origin_of
from renewer.recipes.parts import (
    AwsSpec,
    InjectSpec,
    OAuthSpec,
    RegisterSpec,
    SecretField,
    TestSpec,
    TokenExchangeSpec,
    parse_aws,
    parse_exchange,
    parse_inject,
    parse_oauth,
    parse_register,
    parse_secret_field,
    parse_test,
)

# What ``{{runtime.*}}`` may name, per primitive. The refresh token is not in
# any of them on purpose: it never leaves the store, not even into a sink.
RUNTIME_KEYS: Mapping[str, frozenset[str]] = {
    "static_key": frozenset(),
    "oauth2": frozenset({"access_token", "token_type", "expires_at", "scope"}),
    "service_account": frozenset(
        {
            "access_token",
            "token_type",
            "expires_at",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "aws_expiration",
        }
    ),
    "mtls": frozenset({"client_cert", "client_key", "ca_chain", "ca_cert", "expires_at", "serial"}),
}
JWT_KINDS = frozenset({"google_jwt", "generic_jwt"})
SERVICE_ACCOUNT_KINDS = frozenset({*JWT_KINDS, "aws_sigv4"})


@dataclass(frozen=True, slots=True)
class Recipe:
    """One service's recipe after ``extends``, validated."""

    service: str
    version: int
    primitive: str
    base_url: str
    inject: InjectSpec
    required_secrets: tuple[SecretField, ...]
    const: Mapping[str, str]
    grant: str | None = None
    oauth: OAuthSpec | None = None
    kind: str = ""
    token_exchange: TokenExchangeSpec | None = None
    aws: AwsSpec | None = None
    test: TestSpec | None = None
    register: RegisterSpec | None = None
    display_name: str = ""
    description: str = ""
    docs_url: str = ""
    tags: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # the files it was built from, the recipe's own first
    allowed_origins: frozenset[Origin] = frozenset()  # besides base_url's, for bind/creds call
    data: Mapping[str, Any] = field(default_factory=dict, repr=False)  # the merged mapping

    @property
    def abstract(self) -> bool:
        """``_``-prefixed recipes exist only to be extended."""
        return self.service.startswith("_")

    @property
    def fingerprint(self) -> str:
        """A short digest of the merged recipe: changes when anything in it changes."""
        import hashlib
        import json

        text = json.dumps(self.data, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def runtime_keys(self) -> frozenset[str]:
        return RUNTIME_KEYS.get(self.primitive, frozenset())

    def secret_field(self, key: str) -> SecretField | None:
        for item in self.required_secrets:
            if item.key == key:
                return item
        return None

    def json_blob_field(self) -> SecretField | None:
        """The first ``json_blob`` field (a pasted service-account key)."""
        return next((item for item in self.required_secrets if item.type == "json_blob"), None)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, sources: tuple[str, ...] = ()) -> Recipe:
        """Build from a mapping that passed the recipe schema (abstract ones included)."""
        return cls(
            service=data["service"],
            version=data.get("version", 1),
            primitive=data.get("primitive", ""),
            base_url=str(data.get("base_url", "")).rstrip("/"),
            inject=parse_inject(data.get("inject", {})),
            required_secrets=tuple(
                parse_secret_field(item) for item in data.get("required_secrets", [])
            ),
            const=dict(data.get("const", {})),
            grant=data.get("grant"),
            oauth=parse_oauth(data["oauth"])
            if "oauth" in data and "token_url" in data["oauth"]
            else None,
            kind=data.get("kind", ""),
            token_exchange=parse_exchange(data["token_exchange"], data.get("kind", ""))
            if "token_exchange" in data and "endpoint" in data["token_exchange"]
            else None,
            aws=parse_aws(data["aws"]) if "aws" in data and "service" in data["aws"] else None,
            test=parse_test(data["test"]) if "test" in data else None,
            register=parse_register(data["register"]) if "register" in data else None,
            display_name=data.get("display_name", ""),
            description=data.get("description", ""),
            docs_url=data.get("docs_url", ""),
            tags=tuple(data.get("tags", [])),
            sources=sources,
            allowed_origins=frozenset(
                origin
                for origin in (origin_of(str(url)) for url in data.get("allowed_origins", []))
                if origin is not None
            ),
            data=data,
        )
