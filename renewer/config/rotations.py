"""The ``rotations:`` section: each entry becomes a ``RotationSpec``, checked across the config.

Its own room: a rotation's keys depend on its type, its schedule on cron or
``every``, and its target on the token sinks and credentials configured
beside it; all of that is checked here, before a rotation ever runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from renewer.config.model import (
    DEFAULT_CHECK_TIMEOUT,
    DEFAULT_GRACE,
    DEFAULT_RETRY_AFTER,
    RotationSpec,
    RotationType,
    TokenSink,
)
from renewer.core.duration import parse_duration
from renewer.credentials.spec import CredentialsSection
from renewer.errors import ConfigError
from renewer.rotation.hooks import CHECK_PLACEHOLDERS, HOOK_PLACEHOLDERS, check_argv
from renewer.rotation.schedule import Schedule, ScheduleError, check_cron, zone
from renewer.yamlmarks import Document

_APPROLE_ONLY = ("role", "mount", "role_id_file", "secret_id_file")


def _schedule(
    document: Document, where: tuple[str | int, ...], item: Mapping[str, Any]
) -> Schedule:
    """``schedule`` + ``timezone``, or ``every``, or neither (by hand only)."""
    if "schedule" in item and "every" in item:
        raise ConfigError(
            f"{document.where((*where, 'every'))}: give either schedule (cron) or every, not both"
        )
    if "timezone" in item and "schedule" not in item:
        raise ConfigError(
            f"{document.where((*where, 'timezone'))}: a timezone only applies to a schedule"
        )
    if "schedule" in item:
        if "timezone" not in item:
            raise ConfigError(
                f"{document.where((*where, 'schedule'))}: a schedule needs a timezone",
                hint="add e.g. `timezone: Asia/Tokyo` (an IANA name; UTC is fine too)",
            )
        for key, check in (("schedule", check_cron), ("timezone", zone)):
            try:
                check(item[key])
            except ScheduleError as exc:
                raise ConfigError(f"{document.where((*where, key))}: {exc}") from None
        return Schedule(cron=item["schedule"], timezone=item["timezone"])
    if "every" in item:
        every = parse_duration(item["every"])
        if every <= 0:
            raise ConfigError(f"{document.where((*where, 'every'))}: must be more than 0")
        return Schedule(every=every)
    return Schedule()


def parse_rotation(
    document: Document, index: int, item: Mapping[str, Any], resolve: Any
) -> RotationSpec:
    """``rotations[index]`` as a spec; keys of another type, bad argv and no grace are refused."""
    where: tuple[str | int, ...] = ("rotations", index)
    kind = RotationType(item["type"])
    _check_type_keys(document, where, kind, item)
    if kind is RotationType.VAULT_TOKEN:
        for key in _APPROLE_ONLY:
            if key in item:
                raise ConfigError(
                    f"{document.where((*where, key))}: only for type: approle "
                    "(a vault-token rotation rotates the token sink named by token:)"
                )
    elif kind is RotationType.APPROLE:
        for key in ("role", "secret_id_file"):
            if key not in item:
                raise ConfigError(
                    f"{document.where(where)}: an approle rotation needs {key}:",
                    hint="see docs/rotation.md for an example",
                )
    if "check" in item:
        try:
            check_argv(item["check"], CHECK_PLACEHOLDERS)
        except ValueError as exc:
            raise ConfigError(f"{document.where((*where, 'check'))}: {exc}") from None
    hook = item.get("hook", {})
    if "command" in hook:
        try:
            check_argv(hook["command"], HOOK_PLACEHOLDERS)
        except ValueError as exc:
            raise ConfigError(f"{document.where((*where, 'hook', 'command'))}: {exc}") from None
    webhook = item.get("webhook", {})
    grace = parse_duration(item.get("grace", DEFAULT_GRACE))
    if grace <= 0:
        raise ConfigError(
            f"{document.where((*where, 'grace'))}: must be more than 0: the old credential "
            "has to outlive the switch, so whatever read it just before can finish and re-read",
            hint="a day is typical (grace: 24h); a few seconds only for a demo",
        )
    return RotationSpec(
        name=item["name"],
        type=kind,
        token=item.get("token", ""),
        schedule=_schedule(document, where, item),
        grace=grace,
        retry_after=parse_duration(item.get("retry_after", DEFAULT_RETRY_AFTER)),
        check=tuple(item.get("check", ())),
        check_timeout=parse_duration(item.get("check_timeout", DEFAULT_CHECK_TIMEOUT)),
        role=item.get("role", ""),
        mount=item.get("mount", "approle"),
        role_id_file=resolve(item["role_id_file"]) if "role_id_file" in item else None,
        secret_id_file=resolve(item["secret_id_file"]) if "secret_id_file" in item else None,
        credential=item.get("credential", ""),
        field=item.get("field", "secret"),
        webhook_url=webhook.get("url", ""),
        webhook_kind=webhook.get("kind", ""),
        hook=tuple(hook.get("command", ())),
        hook_template=resolve(hook["template"]) if "template" in hook else None,
        hook_timeout=parse_duration(hook.get("timeout", DEFAULT_CHECK_TIMEOUT)),
        register_credential=item.get("register", {}).get("credential", ""),
    )


_STATIC_ONLY = ("credential", "field", "webhook", "hook", "register")


def _check_type_keys(
    document: Document, where: tuple[str | int, ...], kind: RotationType, item: Mapping[str, Any]
) -> None:
    """Keys that only make sense for another type are mistakes worth naming."""
    if kind is RotationType.STATIC:
        if "token" in item:
            raise ConfigError(
                f"{document.where((*where, 'token'))}: a static rotation rotates a credential's "
                "secret (credential:), not a token sink"
            )
        if "credential" not in item:
            raise ConfigError(
                f"{document.where(where)}: a static rotation needs credential:",
                hint="credential: names an entry under credentials: whose secret holds the field",
            )
        if "webhook" not in item and "check" not in item:
            raise ConfigError(
                f"{document.where(where)}: a static rotation needs webhook: or check: to "
                "validate the new value before it is promoted",
                hint="see docs/rotation.md for both",
            )
        return
    if "token" not in item:
        raise ConfigError(
            f"{document.where(where)}: a {kind.value} rotation needs token:",
            hint="token: names an entry under tokens:",
        )
    for key in _STATIC_ONLY:
        if key in item:
            raise ConfigError(f"{document.where((*where, key))}: only for type: static")


def check_rotations(
    document: Document, rotations: tuple[RotationSpec, ...], tokens: tuple[TokenSink, ...]
) -> None:
    """Names unique, authorities configured, one rotation per target, files never shared."""
    sinks = {sink.name: sink for sink in tokens}
    names: set[str] = set()
    rotated: set[str] = set()
    files: dict[Path, str] = {sink.path: f"token sink {sink.name!r}" for sink in tokens}
    for index, rotation in enumerate(rotations):
        where: tuple[str | int, ...] = ("rotations", index)
        if rotation.name in names:
            raise ConfigError(
                f"{document.where((*where, 'name'))}: duplicate rotation name {rotation.name!r}"
            )
        names.add(rotation.name)
        if rotation.type is RotationType.STATIC:
            continue  # checked against credentials: in check_static_rotations
        sink = sinks.get(rotation.token)
        if sink is None:
            known = ", ".join(sinks) or "none configured"
            raise ConfigError(
                f"{document.where((*where, 'token'))}: no token sink named {rotation.token!r} "
                f"(known: {known})",
                hint="token: names an entry under tokens:",
            )
        if rotation.type is RotationType.VAULT_TOKEN:
            _check_token_rotation(document, where, rotation, sink, rotated)
            continue
        for key in ("secret_id_file", "role_id_file"):
            path = getattr(rotation, key)
            if path is None:
                continue
            if path in files:
                raise ConfigError(
                    f"{document.where((*where, key))}: {path} is already {files[path]}'s file"
                )
            files[path] = f"rotation {rotation.name!r}"


def check_static_rotations(
    document: Document,
    rotations: tuple[RotationSpec, ...],
    credentials: CredentialsSection,
) -> None:
    """A static rotation names a configured credential; one rotation per credential field."""
    known = {spec.name for spec in credentials.credentials}
    rotated: set[tuple[str, str]] = set()
    for index, rotation in enumerate(rotations):
        if rotation.type is not RotationType.STATIC:
            continue
        where: tuple[str | int, ...] = ("rotations", index)
        if rotation.credential not in known:
            raise ConfigError(
                f"{document.where((*where, 'credential'))}: no credential named "
                f"{rotation.credential!r} (known: {', '.join(sorted(known)) or 'none configured'})",
                hint="credential: names an entry under credentials:",
            )
        if rotation.register_credential and rotation.register_credential not in known:
            raise ConfigError(
                f"{document.where((*where, 'register', 'credential'))}: no credential named "
                f"{rotation.register_credential!r} (known: {', '.join(sorted(known))})",
                hint="register.credential names the credential new values are registered as "
                "(a token that may change the webhook)",
            )
        target = (rotation.credential, rotation.field)
        if target in rotated:
            raise ConfigError(
                f"{document.where((*where, 'field'))}: {rotation.credential}'s {rotation.field} "
                "already has a rotation; one rotation per credential (max_parallel: 1)"
            )
        rotated.add(target)


def _check_token_rotation(
    document: Document,
    where: tuple[str | int, ...],
    rotation: RotationSpec,
    sink: TokenSink,
    rotated: set[str],
) -> None:
    if sink.name in rotated:
        raise ConfigError(
            f"{document.where((*where, 'token'))}: token sink {sink.name!r} already has a "
            "rotation; one rotation per credential (max_parallel: 1)"
        )
    rotated.add(sink.name)
    if rotation.grace >= sink.mint.period:
        raise ConfigError(
            f"{document.where((*where, 'grace'))}: a grace of {rotation.grace}s is not shorter "
            f"than the token's period ({sink.mint.period}s): nobody renews the old token "
            "during its grace, so it would expire before it is revoked",
            hint="shorten grace: (a day is typical)",
        )
