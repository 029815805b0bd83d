"""What a schema cannot see in a resolved recipe: its templates, its secrets and its URLs.

:func:`check_recipe` returns ``(path, message)`` problems; the loader turns
them into ``file:line: field: message`` (exit 78). Its own room: these are
rules about one recipe's meaning (templates name declared secrets, defined
constants and runtime values the primitive has; each primitive's recipe
declares the secrets it reads; every URL a secret travels to stays on the
service's site unless allowlisted, seed §11), apart from finding and merging
the files.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from renewer.core.domains import check_same_site, check_transport, is_absolute, origin_of
from renewer.core.jsonpath import PathError, parse_path
from renewer.core.jwt_claims import RESERVED
from renewer.recipes.model import Recipe
from renewer.recipes.parts import TemplatePath
from renewer.template import TemplateError, parse

# Token endpoints run by identity providers for many services, trusted as a
# destination of any recipe: what a recipe sends there reaches the provider,
# never a third party. Google's APIs (www.googleapis.com) and its token
# endpoint are two sites by the Public Suffix List (googleapis.com is a suffix).
IDENTITY_HOSTS = ("oauth2.googleapis.com",)


def check_recipe(
    recipe: Recipe, *, allow_domains: Collection[str] = ()
) -> list[tuple[TemplatePath, str]]:
    """Problems a schema cannot see, as (path, message); empty when the recipe is sound."""
    problems = _check_templates(recipe)
    problems += _check_expect_paths(recipe)
    problems += _check_client(recipe)
    problems += _check_service_account(recipe)
    problems += _check_mtls(recipe)
    problems += _check_urls(recipe, allow_domains)
    # A static secret that only reaches files (a webhook signing secret) says so with
    # an explicit `inject: {}`; a missing inject block is a mistake.
    sink_only = recipe.primitive == "static_key" and "inject" in recipe.data
    if recipe.inject.empty and recipe.primitive in {"static_key", "oauth2"} and not sink_only:
        problems.append(
            (
                ("inject",),
                "nothing is injected: say where the credential goes "
                "(header, query, body or basic_auth), or write `inject: {}` for a "
                "static secret that only goes to sinks",
            )
        )
    return problems


def _check_templates(recipe: Recipe) -> list[tuple[TemplatePath, str]]:
    declared = {item.key for item in recipe.required_secrets}
    templates = list(recipe.inject.templates())
    if recipe.test is not None:
        templates += [
            (("test", "headers", name), text) for name, text in recipe.test.headers.items()
        ]
    if recipe.register is not None:
        templates += list(recipe.register.templates())
    if recipe.token_exchange is not None:
        for section in ("claims", "params"):
            templates += [
                (("token_exchange", section, name), text)
                for name, text in getattr(recipe.token_exchange, section).items()
            ]
    problems: list[tuple[TemplatePath, str]] = []
    for path, template in templates:
        try:
            pieces = parse(template)
        except TemplateError as exc:
            problems.append((path, str(exc)))
            continue
        for piece in pieces:
            if isinstance(piece, str):
                continue
            if piece.namespace == "secret" and piece.key not in declared:
                problems.append((path, f"{piece} is not declared in required_secrets"))
            elif piece.namespace == "const" and piece.key not in recipe.const:
                problems.append((path, f"{piece} is not defined under const"))
            elif piece.namespace == "runtime" and piece.key not in recipe.runtime_keys:
                available = ", ".join(sorted(recipe.runtime_keys)) or "none"
                problems.append(
                    (
                        path,
                        f"{piece} is not a runtime value of the {recipe.primitive} "
                        f"primitive (available: {available})",
                    )
                )
    return problems


def _check_expect_paths(recipe: Recipe) -> list[tuple[TemplatePath, str]]:
    """Every ``$`` key of ``test.expect_json`` parses (a typo fails here, not in a test)."""
    expect = recipe.test.expect_json if recipe.test is not None else None
    problems: list[tuple[TemplatePath, str]] = []
    for key in expect or {}:
        if str(key).startswith("$"):
            try:
                parse_path(str(key))
            except PathError as exc:
                problems.append((("test", "expect_json", key), f"not a JSON path: {exc}"))
    return problems


def _check_client(recipe: Recipe) -> list[tuple[TemplatePath, str]]:
    if recipe.primitive != "oauth2":
        return []
    declared = {item.key for item in recipe.required_secrets}
    needed = ["client_id"] if recipe.grant == "pkce" else ["client_id", "client_secret"]
    missing = [key for key in needed if key not in declared]
    if not missing:
        return []
    return [
        (
            ("required_secrets",),
            f"an oauth2 recipe with grant {recipe.grant} must declare "
            + " and ".join(repr(key) for key in missing),
        )
    ]


def _check_service_account(recipe: Recipe) -> list[tuple[TemplatePath, str]]:
    """The fields each kind reads from the secret are declared in required_secrets."""
    if recipe.primitive != "service_account":
        return []
    declared = {item.key for item in recipe.required_secrets}
    problems: list[tuple[TemplatePath, str]] = []

    def need(path: TemplatePath, key: str, why: str) -> None:
        if key and key not in declared:
            problems.append((path, f"{why} {key!r} is not declared in required_secrets"))

    exchange = recipe.token_exchange
    if recipe.kind == "google_jwt":
        if recipe.json_blob_field() is None:
            problems.append(
                (
                    ("required_secrets",),
                    "a google_jwt recipe must declare the service-account key as a "
                    "field of type json_blob",
                )
            )
        if exchange is not None and exchange.algorithm != "RS256":
            problems.append(
                (("token_exchange", "algorithm"), "Google signs service-account JWTs with RS256")
            )
    if exchange is not None:
        for claim in sorted(RESERVED & set(exchange.claims)):
            problems.append(
                (
                    ("token_exchange", "claims", claim),
                    f"{claim!r} is a registered claim renewer sets itself; it cannot be overridden",
                )
            )
    if recipe.kind == "generic_jwt" and exchange is not None:
        need(("token_exchange", "key_from_secret"), exchange.key_from_secret, "the key field")
        need(("token_exchange", "key_id_from_secret"), exchange.key_id_from_secret, "the field")
        if not exchange.issuer_from_secret:
            problems.append(
                (("token_exchange",), "a generic_jwt recipe needs issuer_from_secret (the iss)")
            )
        need(("token_exchange", "issuer_from_secret"), exchange.issuer_from_secret, "the field")
        need(("token_exchange", "subject_from_secret"), exchange.subject_from_secret, "the field")
    elif recipe.kind == "aws_sigv4":
        for key in ("access_key_id", "secret_access_key"):
            need(("required_secrets",), key, "the AWS key field")
        sts = recipe.aws.sts if recipe.aws is not None else None
        if sts is not None and sts.action == "AssumeRole":
            need(("aws", "sts", "role_arn_from_secret"), sts.role_arn_from_secret, "the field")
        if sts is not None:
            need(
                ("aws", "sts", "external_id_from_secret"), sts.external_id_from_secret, "the field"
            )
    return problems


def _check_mtls(recipe: Recipe) -> list[tuple[TemplatePath, str]]:
    if recipe.primitive != "mtls":
        return []
    declared = {item.key for item in recipe.required_secrets}
    missing = [key for key in ("client_cert", "client_key") if key not in declared]
    if not missing:
        return []
    return [
        (
            ("required_secrets",),
            "an mtls recipe must declare "
            + " and ".join(repr(key) for key in missing)
            + " (optional when pki: issues them)",
        )
    ]


def _url_targets(recipe: Recipe) -> list[tuple[TemplatePath, str]]:
    """Every URL of *recipe*, besides ``base_url``, that a secret travels to."""
    targets: list[tuple[TemplatePath, str]] = []
    if recipe.oauth is not None:
        targets.append((("oauth", "token_url"), recipe.oauth.token_url))
        if recipe.oauth.authorize_url:
            targets.append((("oauth", "authorize_url"), recipe.oauth.authorize_url))
    exchange = recipe.data.get("token_exchange", {})
    if isinstance(exchange, Mapping) and isinstance(exchange.get("endpoint"), str):
        targets.append((("token_exchange", "endpoint"), exchange["endpoint"]))
    if recipe.aws is not None and recipe.aws.sts is not None:
        targets.append((("aws", "sts", "endpoint"), recipe.aws.sts.endpoint))
    origins = recipe.data.get("allowed_origins", [])
    for index, origin in enumerate(origins if isinstance(origins, list) else []):
        targets.append((("allowed_origins", index), str(origin)))
    if recipe.test is not None and is_absolute(recipe.test.path):
        targets.append((("test", "path"), recipe.test.path))
    return targets


def _check_test_path(recipe: Recipe) -> list[tuple[TemplatePath, str]]:
    """A test goes to base_url's origin (or an allowed one), like every request with the secret."""
    if recipe.test is None:
        return []
    path = recipe.test.path
    if not is_absolute(path):
        if path.startswith("/"):
            return []
        return [(("test", "path"), "expected a path starting with '/' (relative to base_url)")]
    if origin_of(path) in {origin_of(recipe.base_url), *recipe.allowed_origins}:
        return []
    return [
        (
            ("test", "path"),
            "the test sends the credential: use a path relative to base_url "
            "(or an origin listed in allowed_origins)",
        )
    ]


def _check_urls(recipe: Recipe, allow: Collection[str]) -> list[tuple[TemplatePath, str]]:
    from renewer.recipes.sites import site_of

    transport = check_transport(recipe.base_url)
    if transport:
        return [(("base_url",), transport), *_check_test_path(recipe)]
    problems: list[tuple[TemplatePath, str]] = []
    trusted = (*allow, *IDENTITY_HOSTS)
    for target_path, url in _url_targets(recipe):
        problem = check_same_site(url, base_url=recipe.base_url, site_of=site_of, allow=trusted)
        if problem:
            problems.append((target_path, problem))
    return problems + _check_test_path(recipe)
