"""Opening a configured credential: its recipe from the catalog, its primitive, store and lock.

Its own room: this is where the configuration meets the
:class:`~renewer.credentials.handle.Credential` (which recipe directories
are visible, how an ``mtls`` credential reaches Vault PKI, where its lock
file is); the handle itself knows nothing of the config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from renewer.credentials.handle import Credential
from renewer.credentials.refresh_lock import lock_path
from renewer.credentials.spec import CredentialSpec
from renewer.primitives import primitive_for
from renewer.primitives.http import Http
from renewer.recipes.loader import RecipeCatalog

if TYPE_CHECKING:
    from renewer.config import Config
    from renewer.credentials.spec import PkiSettings
    from renewer.primitives import IssuerFactory
    from renewer.secretstore import Stores
    from renewer.vault import PkiIssuer


def open_credential(
    config: Config,
    spec: CredentialSpec | str,
    *,
    stores: Stores,
    http: Http,
    catalog: RecipeCatalog | None = None,
) -> Credential:
    """Open *spec* (or the credential of that name); ``RecipeError``/``ConfigError`` if unusable."""
    if isinstance(spec, str):
        spec = config.credentials.credential(spec)
    if catalog is None:
        catalog = catalog_for(config)
    recipe = catalog.usable(spec.recipe)
    return Credential(
        spec,
        recipe,
        primitive_for(recipe.primitive, pki=spec.pki, issuer=_pki_issuer(config)),
        stores.get(spec.store),
        http=http,
        lock_file=lock_path(config.state_dir, spec.name),
        lock_timeout=float(config.run.lock_timeout),
    )


def _pki_issuer(config: Config) -> IssuerFactory:
    """How an mtls credential reaches Vault PKI: its token sink's token, this config's Vault."""

    def issuer(settings: PkiSettings) -> PkiIssuer:
        from renewer.vault import pki_issuer

        return pki_issuer(config, mount=settings.mount, token_sink=settings.token)

    return issuer


def catalog_for(config: Config) -> RecipeCatalog:
    """The recipes visible with *config*."""
    settings = config.credentials.recipes
    return RecipeCatalog(settings.dirs, allow_domains=settings.allow_domains)
