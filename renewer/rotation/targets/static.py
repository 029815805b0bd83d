"""Rotation of a multi-key static secret (webhook signing secrets and the like).

The secret lives in a store entry as named values. For a field ``F``:

=================  =====================================================
``F``              the current value (what signers use; what consumers read)
``F.id``           its key id: a random label, never derived from the value
``F.previous``     the old value, still accepted during the grace period
``F.previous.id``
``F.pending``      a new value being validated (before promotion)
``F.pending.id``
=================  =====================================================

A cycle: issue writes ``F.pending`` (compare-and-set) and runs the
post-rotation hook so receivers accept it; validation sends a signed test
webhook (or runs the recipe's test / a check command); promotion moves the
old value to ``F.previous`` and green to ``F`` in one write and runs the
hook; after the grace ``F.previous`` is removed and the hook runs again.
Every write is a compare-and-set on the version just read, so a concurrent
writer makes the step fail cleanly (and the next run resume) instead of
losing a value. The store is where the value lives between runs, so unlike
the Vault targets nothing is kept beside a sink.

This module depends only on the small :class:`SecretStore` protocol below;
the credentials layer's stores (Vault KV v2, the encrypted file store) bind
to it. Nothing here knows which one it talks to.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from renewer.core.drift import Verdict
from renewer.core.secret import Secret
from renewer.errors import RenewerError, RotationBlocked, ServiceUnavailable, Temporary
from renewer.rotation.machine import SinkView
from renewer.rotation.targets.base import Green

UNLABELLED = "initial"  # the key id of a current value written before renewer managed it


class StoreConflict(Temporary):
    """A compare-and-set write lost to a concurrent writer (exit 75; the next run resumes)."""


@dataclass(frozen=True, slots=True)
class Stored:
    """One store entry: named values and the version they were read at."""

    values: Mapping[str, Secret] = field(default_factory=dict)
    version: int = 0


class SecretStore(Protocol):
    """The slice of a secret store a static rotation needs (one entry)."""

    def read(self) -> Stored | None:
        """The entry and its version; None when it does not exist."""
        ...

    def write(self, values: Mapping[str, Secret], *, cas: int) -> int:
        """Replace the entry if its version is still *cas* (0: create); the new version.

        Raise :class:`StoreConflict` when the version moved.
        """
        ...


Hook = Callable[[Mapping[str, Secret]], None]
"""Applies the accepted values (``current``, ``previous``, ``pending``) to their consumers."""
Check = Callable[[Secret], Verdict]
"""Uses a value for real: a signed test webhook, the recipe's test, a command."""


def new_value() -> Secret:
    """256 random bits, hex: what GitHub and Slack accept as a signing secret."""
    return Secret(secrets.token_hex(32))


def new_key_id() -> str:
    return f"k-{secrets.token_hex(4)}"


@dataclass
class StaticSecretTarget:
    """One field of one store entry, rotated with two values alive during the grace."""

    store: SecretStore
    check: Check
    hook: Hook | None = None
    field: str = "secret"
    generate: Callable[[], Secret] = new_value
    key_id: Callable[[], str] = new_key_id
    kind: str = "static"
    noun: str = "key"

    # --- the entry's slots ------------------------------------------------

    def _slot(self, name: str) -> str:
        return self.field if name == "current" else f"{self.field}.{name}"

    def _id(self, stored: Stored, slot: str) -> str:
        value = stored.values.get(self._slot(slot) + ".id")
        if value is not None:
            return value.reveal()
        return UNLABELLED if slot == "current" and self._slot(slot) in stored.values else ""

    def _read(self) -> Stored:
        stored = self.store.read()
        if stored is None or self.field not in stored.values:
            raise RotationBlocked(
                f"the store has no current value for {self.field!r}",
                hint="write the first value with the credentials layer, then rotate",
            )
        return stored

    def _without(self, stored: Stored, *slots: str) -> dict[str, Secret]:
        drop = {self._slot(slot) for slot in slots} | {self._slot(slot) + ".id" for slot in slots}
        return {name: value for name, value in stored.values.items() if name not in drop}

    def _write(self, stored: Stored, values: dict[str, Secret]) -> None:
        self.store.write(values, cas=stored.version)
        self._apply(values)

    def accepted(self, values: Mapping[str, Secret]) -> dict[str, Secret]:
        """What the hook gets: every live slot; an absent one repeats the current value."""
        current = values[self.field]
        return {
            slot: values.get(self._slot(slot), current)
            for slot in ("current", "previous", "pending")
        }

    def _apply(self, values: Mapping[str, Secret]) -> None:
        if self.hook is not None:
            self.hook(self.accepted(values))

    # --- the protocol ---------------------------------------------------------

    def observe(self) -> SinkView:
        stored = self.store.read()
        if stored is None or self.field not in stored.values:
            return SinkView("", healthy=False, problem=f"no current value for {self.field!r}")
        return SinkView(self._id(stored, "current"), healthy=True)

    def issue(self, *, blue: str) -> Green:
        stored = self._read()
        green = Green(self.key_id(), self.generate())
        values = {
            **self._without(stored, "pending"),
            self._slot("pending"): green.value,
            self._slot("pending") + ".id": Secret(green.identifier),
        }
        self.store.write(values, cas=stored.version)
        try:
            self._apply(values)
        except RenewerError:
            self._undo_issue(green.identifier)
            raise
        return green

    def _undo_issue(self, green: str) -> None:
        """The hook refused the pending value: take it out of the store, so nothing was created.

        If even that fails, the error is temporary: GREEN_ISSUING stays and the
        next run's leftover sweep removes the pending value.
        """
        try:
            stored = self._read()
            if self._id(stored, "pending") == green:
                self.store.write(self._without(stored, "pending"), cas=stored.version)
        except RenewerError as error:
            raise ServiceUnavailable(
                f"the post-rotation hook failed and the pending value could not be removed "
                f"({error.message}); the next run removes it"
            ) from None

    def validate(self, green: Green) -> Verdict:
        return self.check(green.value)

    def promote(self, green: Green, *, blue: str) -> None:
        stored = self._read()
        if self._id(stored, "current") == green.identifier:
            self._apply(stored.values)  # written by a run that died before its hook
            return
        values = {
            **self._without(stored, "pending", "previous"),
            self.field: green.value,
            self.field + ".id": Secret(green.identifier),
        }
        if blue:
            values[self._slot("previous")] = stored.values[self.field]
            values[self._slot("previous") + ".id"] = Secret(blue)
        self._write(stored, values)

    def confirm_promoted(self, *, green: str, blue: str) -> None:
        self._apply(self._read().values)

    def restore_blue(self, *, blue: str) -> None:
        stored = self._read()
        if self._id(stored, "previous") != blue:
            raise RotationBlocked(f"cannot roll back: the store no longer holds the old key {blue}")
        values = {
            **self._without(stored, "previous"),
            self.field: stored.values[self._slot("previous")],
            self.field + ".id": Secret(blue),
            self._slot("previous"): stored.values[self.field],
            self._slot("previous") + ".id": Secret(self._id(stored, "current")),
        }
        self._write(stored, values)

    def revoke_old(self, blue: str) -> bool:
        return self._remove(blue, slots=("previous",))

    def discard(self, green: str) -> bool:
        return self._remove(green, slots=("pending", "previous"))

    def _remove(self, identifier: str, *, slots: tuple[str, ...]) -> bool:
        """Remove the value labelled *identifier* from *slots*; never the current value."""
        stored = self._read()
        for slot in slots:
            if identifier and self._id(stored, slot) == identifier:
                self._write(stored, self._without(stored, slot))
                return True
        return False

    def sweep_leftovers(self, *, keep: str) -> int:
        stored = self.store.read()
        if stored is None or self._slot("pending") not in stored.values:
            return 0
        if self._id(stored, "pending") == keep:
            return 0
        self._write(stored, self._without(stored, "pending"))
        return 1
