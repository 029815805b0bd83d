"""A static rotation bound to a real credential: its secret record as a one-entry store.

:class:`~renewer.rotation.targets.static.StaticSecretTarget` needs read-with-version
and compare-and-set write on one entry. The credentials layer's stores (Vault
KV v2, the encrypted local store) offer read and read-modify-write of a
record instead, each already safe against a concurrent writer. This adapter
keeps a version counter inside the record (``_rotation_version``) and checks
it inside the store's own read-modify-write, so "write only if nobody changed
it since I read it" holds on both stores. A person replacing the secret with
``renewer creds set`` resets the record, which a rotation in flight sees as a
conflict and resumes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from renewer import redact
from renewer.config import Config, RotationSpec
from renewer.core.drift import Verdict
from renewer.core.secret import Secret
from renewer.errors import ConfigError
from renewer.rotation.hooks import CommandHook, check_verdict
from renewer.rotation.registration import PlatformRegistration
from renewer.rotation.signing import WebhookKind
from renewer.rotation.targets.static import Check, StaticSecretTarget, StoreConflict, Stored
from renewer.rotation.webhooks import WebhookCheck
from renewer.secretstore.base import ROTATION_VERSION as VERSION_FIELD
from renewer.secretstore.base import Namespace, Record, SecretRef, is_label
from renewer.secretstore.base import SecretStore as CredentialStore
from renewer.template import placeholders
from renewer.tokens.env import TokenEnv

if TYPE_CHECKING:
    from renewer.recipes.model import Recipe
    from renewer.secretstore import Stores

DEFAULT_MANIFEST = 'current: "${current}"\nprevious: "${previous}"\npending: "${pending}"\n'


def values_only(record: Record) -> Record:
    """The record without its bookkeeping: no version counter, no key ids."""
    return {key: value for key, value in record.items() if not is_label(key)}


def _version(record: Record | None) -> int:
    if record is None:
        return 0
    try:
        return int(record.get(VERSION_FIELD, "0") or 0)
    except ValueError:
        return 0


class CredentialSecretEntry:
    """The ``secret`` record of one credential ref, with compare-and-set by version."""

    def __init__(self, store: CredentialStore, ref: SecretRef) -> None:
        self.store = store
        self.ref = ref

    def read(self) -> Stored | None:
        record = self.store.read(self.ref, Namespace.SECRET)
        if record is None:
            return None
        values = {key: Secret(value) for key, value in record.items() if key != VERSION_FIELD}
        # Key ids (``secret.id``) are labels that logs may show; the values are secrets.
        redact.register(*(value for key, value in values_only(record).items()))
        return Stored(values=values, version=_version(record))

    def write(self, values: Mapping[str, Secret], *, cas: int) -> int:
        plain = {key: value.reveal() for key, value in values.items()}

        def change(current: Record | None) -> Record:
            if _version(current) != cas:
                raise StoreConflict(
                    f"{self.store.location(self.ref, Namespace.SECRET)} changed while rotating; "
                    "the next run resumes"
                )
            return {**plain, VERSION_FIELD: str(cas + 1)}

        self.store.update(self.ref, Namespace.SECRET, change)
        return cas + 1


def _checks(rotation: RotationSpec, config: Config, env: TokenEnv) -> Check:
    """The signed test webhook and/or the check command, both required to pass."""
    webhook = (
        WebhookCheck(
            url=rotation.webhook_url,
            kind=WebhookKind(rotation.webhook_kind),
            rotation=rotation.name,
            now=env.wall_clock(),
        )
        if rotation.webhook_url
        else None
    )

    def check(value: Secret) -> Verdict:
        if webhook is not None:
            verdict = webhook(value)
            if not verdict.ok:
                return verdict
        return check_verdict(
            rotation.check,
            value,
            name=rotation.name,
            timeout=rotation.check_timeout,
            state_dir=config.state_dir,
        )

    return check


def _manifest_template(rotation: RotationSpec) -> str:
    """The hook's template, checked now: a template that is not YAML/JSON is a config error."""
    from renewer.rotation.hooks import manifest_data

    if rotation.hook_template is None:
        return DEFAULT_MANIFEST
    try:
        text = Path(rotation.hook_template).read_text()
    except OSError as exc:
        raise ConfigError(
            f"rotation {rotation.name}: cannot read the hook template {rotation.hook_template}: "
            f"{exc.strerror}"
        ) from None
    try:
        manifest_data(text, source=str(rotation.hook_template))
    except ValueError as exc:
        raise ConfigError(f"rotation {rotation.name}: hook template: {exc}") from None
    return text


def check_registration(rotation: RotationSpec, recipe: Recipe) -> None:
    """``ConfigError`` unless *recipe* describes a register call that sends the rotated field."""
    if recipe.register is None:
        raise ConfigError(
            f"rotation {rotation.name}: register: is set, but recipe {recipe.service} does not "
            "describe how to register a new value (no register: block)",
            hint="remove register: from the rotation, or use a recipe with a register: block",
        )
    named = {piece.key for _, text in recipe.register.templates() for piece in placeholders(text)}
    if rotation.field not in named:
        raise ConfigError(
            f"rotation {rotation.name}: recipe {recipe.service}'s register call does not send "
            f"{{{{secret.{rotation.field}}}}}, the rotated field",
        )


def _registration(
    rotation: RotationSpec, config: Config, recipe: Recipe, stores: Stores
) -> PlatformRegistration | None:
    """The platform call of ``register:``, checked against the credential's recipe."""
    if not rotation.register_credential:
        return None
    check_registration(rotation, recipe)

    def open_session() -> requests.Session:
        from renewer.binding import BoundSession
        from renewer.credentials.opening import open_credential
        from renewer.primitives.http import Http

        credential = open_credential(
            config, rotation.register_credential, stores=stores, http=Http()
        )
        return BoundSession(credential)  # bound to its recipe's origins (allowed_origins)

    return PlatformRegistration(
        rotation=rotation.name,
        field_name=rotation.field,
        recipe=recipe,
        credential=rotation.register_credential,
        open_session=open_session,
    )


def build_static(rotation: RotationSpec, config: Config, env: TokenEnv) -> StaticSecretTarget:
    """The static-secret target for *rotation*, on its credential's store."""
    from renewer.credentials.opening import catalog_for
    from renewer.secretstore import Stores

    spec = config.credentials.credential(rotation.credential)
    stores = Stores(config)
    store = stores.get(spec.store)
    hook = (
        CommandHook(
            argv=rotation.hook,
            template=_manifest_template(rotation),
            state_dir=config.state_dir,
            name=rotation.name,
            timeout=float(rotation.hook_timeout),
        )
        if rotation.hook
        else None
    )
    register = None
    if rotation.register_credential:
        recipe = catalog_for(config).usable(spec.recipe)
        register = _registration(rotation, config, recipe, stores)
    return StaticSecretTarget(
        store=CredentialSecretEntry(store, spec.secret),
        check=_checks(rotation, config, env),
        hook=hook,
        register=register,
        field=rotation.field,
    )
