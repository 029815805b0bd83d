"""Reading the ``credentials``, ``secrets`` and ``recipes`` keys into a ``CredentialsSection``.

:mod:`renewer.config` calls :func:`parse` with the schema-valid document;
every error names the config file, the line and the key (exit 78).
Reference: ``docs/credentials.md``. Its own room: the values it builds live
in :mod:`renewer.credentials.spec`, for the many readers that never parse.

Cross-checks that a schema cannot express, each with file:line:

* credential names are unique;
* the recipe exists (by file name, without parsing recipes: a broken recipe
  file fails only its own credentials, at run time) and is not abstract;
* no two sinks share a path, and no sink is a token sink's file;
* sink templates are well formed (which keys exist is checked at run time,
  against the recipe); two ``aws_profile`` sinks may share a file when they
  write different profiles;
* a credential stored in Vault, or renewed from Vault PKI (``pki:``), has a
  token sink whose token reads the store or issues the certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from renewer.core.duration import parse_duration
from renewer.core.refresh import DEFAULT_FRACTION
from renewer.credentials.spec import (
    DEFAULT_HOOK_TIMEOUT,
    CredentialSpec,
    CredentialsSection,
    HookSpec,
    LocalStoreSettings,
    PkiSettings,
    RecipeSettings,
    SecretsSettings,
    SinkSpec,
    TestPolicy,
    VaultStoreSettings,
)
from renewer.errors import ConfigError
from renewer.secretstore.base import SecretRef
from renewer.template import TemplateError
from renewer.template import parse as parse_template
from renewer.yamlmarks import Document


def parse(document: Document, *, environ: dict[str, str], home: str) -> CredentialsSection:
    """Build the section from a schema-valid *document*; cross-checks raise ``ConfigError``."""
    from renewer.config import expand_path, xdg_dir

    data: dict[str, Any] = document.data
    home_path = Path(home)
    base = Path(document.source).parent

    def resolve(text: str) -> Path:
        path = expand_path(text, home_path)
        return path if path.is_absolute() else base / path

    config_dir = xdg_dir(environ, "XDG_CONFIG_HOME", ".config")
    data_dir = xdg_dir(environ, "XDG_DATA_HOME", ".local/share")
    secrets = _secrets(data.get("secrets", {}), resolve, config_dir, data_dir)
    recipes_data = data.get("recipes", {})
    recipes = RecipeSettings(
        dirs=tuple(resolve(d) for d in recipes_data.get("dirs", [str(config_dir / "recipes")])),
        allow_domains=tuple(host.lower() for host in recipes_data.get("allow_domains", [])),
    )
    _check_allowlist(document, recipes.allow_domains)
    token_names = [item["name"] for item in data.get("tokens", [])]
    credentials = tuple(
        _credential(document, index, item, secrets, resolve, token_names=token_names)
        for index, item in enumerate(data.get("credentials", []))
    )
    _check(document, credentials, secrets, recipes, resolve)
    return CredentialsSection(credentials=credentials, secrets=secrets, recipes=recipes)


def _check_allowlist(document: Document, hosts: tuple[str, ...]) -> None:
    """An entry allows its subdomains: a public suffix would allow every site below it."""
    if not hosts:
        return
    from renewer.core.domains import is_loopback
    from renewer.recipes.sites import is_public_suffix

    for index, host in enumerate(hosts):
        if is_public_suffix(host) and not is_loopback(host):
            raise ConfigError(
                f"{document.where(('recipes', 'allow_domains', index))}: {host} is a public "
                "suffix (anyone can own a name under it): allowing it would allow every site "
                "below it",
                hint=f"list the exact host instead, e.g. myapp.{host}",
            )


def _secrets(
    section: Mapping[str, Any], resolve: Any, config_dir: Path, data_dir: Path
) -> SecretsSettings:
    local = section.get("local", {})
    vault = section.get("vault", {})
    return SecretsSettings(
        default_store=section.get("default_store", "local"),
        local=LocalStoreSettings(
            dir=resolve(local["dir"]) if "dir" in local else data_dir / "store",
            key_file=resolve(local["key_file"])
            if "key_file" in local
            else config_dir / "store.key",
        ),
        vault=VaultStoreSettings(
            mount=vault.get("mount", "secret"),
            prefix=vault.get("prefix", "renewer"),
            token=vault.get("token"),
        ),
    )


def _credential(
    document: Document,
    index: int,
    item: Mapping[str, Any],
    secrets: SecretsSettings,
    resolve: Any,
    *,
    token_names: list[str],
) -> CredentialSpec:
    where = ("credentials", index)
    sinks = tuple(
        _sink(document, (*where, "sinks", number), sink, resolve)
        for number, sink in enumerate(item.get("sinks", []))
    )
    hooks = tuple(
        _hook(document, (*where, "hooks", number), hook)
        for number, hook in enumerate(item.get("hooks", []))
    )
    return CredentialSpec(
        name=item["name"],
        recipe=item["recipe"],
        secret=SecretRef.parse(item["secret"]),
        store=item.get("store", secrets.default_store),
        refresh_at=float(item.get("refresh_at", DEFAULT_FRACTION)),
        test=TestPolicy(item.get("test", TestPolicy.AFTER_REFRESH.value)),
        sinks=sinks,
        hooks=hooks,
        pki=_pki(document, (*where, "pki"), item["pki"], token_names) if "pki" in item else None,
    )


def _pki(
    document: Document,
    where: tuple[str | int, ...],
    item: Mapping[str, Any],
    token_names: list[str],
) -> PkiSettings:
    token = item.get("token")
    if token is None:
        if len(token_names) != 1:
            raise ConfigError(
                f"{document.where(where)}: pki needs token, the name of the token sink whose "
                "token may issue the certificate",
                hint="set pki.token to one of: " + (", ".join(token_names) or "(no tokens)"),
            )
        token = token_names[0]
    elif token not in token_names:
        raise ConfigError(
            f"{document.where((*where, 'token'))}: no token sink named {token!r} "
            f"(known: {', '.join(token_names) or 'none'})"
        )
    return PkiSettings(
        role=item["role"],
        common_name=item["common_name"],
        token=token,
        mount=item.get("mount", "pki").strip("/"),
        alt_names=tuple(item.get("alt_names", [])),
        ip_sans=tuple(item.get("ip_sans", [])),
        ttl=parse_duration(item["ttl"]) if "ttl" in item else None,
    )


def _sink(
    document: Document, where: tuple[str | int, ...], item: Mapping[str, Any], resolve: Any
) -> SinkSpec:
    templates = [((*where, "value"), item["value"])] if "value" in item else []
    templates += [((*where, "vars", name), text) for name, text in item.get("vars", {}).items()]
    for path, template in templates:
        try:
            parse_template(template)
        except TemplateError as exc:
            raise ConfigError(f"{document.where(path)}: {exc}") from None
    return SinkSpec(
        type=item["type"],
        path=resolve(item["path"]),
        value=item.get("value"),
        vars=dict(item.get("vars", {})),
        profile=item.get("profile", ""),
    )


def _hook(document: Document, where: tuple[str | int, ...], item: Mapping[str, Any]) -> HookSpec:
    shell = bool(item.get("shell", False))
    command = item["command"]
    if isinstance(command, str) and not shell:
        raise ConfigError(
            f"{document.where((*where, 'command'))}: a command string needs shell: true; "
            "otherwise write it as a list of words",
            hint="e.g. command: [systemctl, --user, try-restart, app.service]",
        )
    if isinstance(command, list) and shell:
        raise ConfigError(
            f"{document.where((*where, 'shell'))}: shell: true takes a command string, not a list"
        )
    timeout = parse_duration(item.get("timeout", DEFAULT_HOOK_TIMEOUT))
    if timeout < 1:
        raise ConfigError(f"{document.where((*where, 'timeout'))}: a hook needs at least 1s")
    return HookSpec(
        command=command if isinstance(command, str) else tuple(command),
        shell=shell,
        timeout=timeout,
    )


def _check(
    document: Document,
    credentials: tuple[CredentialSpec, ...],
    secrets: SecretsSettings,
    recipes: RecipeSettings,
    resolve: Any,
) -> None:
    known_recipes: frozenset[str] = frozenset()
    if credentials:  # reading recipe directories costs imports a tokens-only run never needs
        from renewer.recipes.loader import recipe_names

        known_recipes = frozenset(recipe_names(recipes.dirs))
    token_paths = {resolve(item["path"]): item["name"] for item in document.data.get("tokens", [])}
    token_names = list(token_paths.values())
    names: set[str] = set()
    sinks: dict[Path, list[tuple[str, SinkSpec]]] = {}
    for index, spec in enumerate(credentials):
        where = ("credentials", index)
        if spec.name in names:
            raise ConfigError(
                f"{document.where((*where, 'name'))}: duplicate credential name {spec.name!r}"
            )
        names.add(spec.name)
        _check_recipe(document, where, spec.recipe, known_recipes)
        if spec.store == "vault":
            _check_vault_token(document, where, secrets.vault, token_names)
        for number, sink in enumerate(spec.sinks):
            at = document.where((*where, "sinks", number, "path"))
            if sink.path in token_paths:
                raise ConfigError(
                    f"{at}: {sink.path} is token sink {token_paths[sink.path]!r}'s file"
                )
            for owner, other in sinks.get(sink.path, []):
                _check_shared_path(at, sink, owner, other)
            sinks.setdefault(sink.path, []).append((f"credential {spec.name!r}", sink))


def _check_shared_path(at: str, sink: SinkSpec, owner: str, other: SinkSpec) -> None:
    """Two sinks may share a file only as two different profiles of an AWS credentials file."""
    if sink.type == other.type == "aws_profile" and sink.profile != other.profile:
        return
    if sink.type == other.type == "aws_profile":
        raise ConfigError(
            f"{at}: profile [{sink.profile}] of {sink.path} is already a sink of {owner}"
        )
    raise ConfigError(f"{at}: {sink.path} is already a sink of {owner}")


def _check_recipe(
    document: Document, where: tuple[str | int, ...], recipe: str, known: frozenset[str]
) -> None:
    at = document.where((*where, "recipe"))
    if recipe not in known:
        listed = ", ".join(sorted(name for name in known if not name.startswith("_")))
        raise ConfigError(
            f"{at}: no recipe named {recipe!r} (known: {listed})",
            hint="see `renewer recipes list`; user recipes are <service>.yaml in recipes.dirs",
        )
    if recipe.startswith("_"):
        raise ConfigError(
            f"{at}: recipe {recipe!r} is abstract and cannot be used directly",
            hint=f"write a recipe with 'extends: {recipe}' and use that",
        )


def _check_vault_token(
    document: Document,
    where: tuple[str | int, ...],
    vault: VaultStoreSettings,
    token_names: list[str],
) -> None:
    if vault.token is None:
        if len(token_names) == 1:
            return
        raise ConfigError(
            f"{document.where((*where, 'store'))}: the vault store needs secrets.vault.token, "
            "the name of the token sink whose token reads the KV mount",
            hint="set secrets.vault.token to one of: "
            + (", ".join(token_names) or "(no tokens configured)"),
        )
    if vault.token not in token_names:
        raise ConfigError(
            f"{document.where(('secrets', 'vault', 'token'))}: no token sink named {vault.token!r} "
            f"(known: {', '.join(token_names) or 'none'})"
        )
