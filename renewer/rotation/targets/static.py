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

Two kinds of consumers learn the values (seeds 000/001):

* **receivers** (the service that verifies webhooks) through the
  post-rotation *hook*: it gets every live slot and accepts all of them;
* the **platform** that signs with the secret (GitHub's webhook config)
  through *register*: it gets exactly one value, the pending one while it
  is being validated, otherwise the current one.

A cycle: issue writes ``F.pending`` (compare-and-set); validation applies it
(hook first, so receivers accept it before the platform signs with it;
then register), sends a signed test webhook and/or runs a check command;
promotion moves the old value to ``F.previous`` and green to ``F`` in one
write and applies again; after the grace ``F.previous`` is removed and the
final values are applied (register first, then the hook withdraws the old
value). Every step that withdraws a value applies the store's values again
on *every* call, even when the store change was made by an earlier run that
stopped: a cycle completes only when the receivers have the final state.

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
from renewer.errors import RotationBlocked, Temporary
from renewer.rotation.plan import SinkView
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
"""Applies the accepted values (``current``, ``previous``, ``pending``; "" when empty) to
receivers. Raises :class:`renewer.errors.RotationHookFailed` when it cannot."""
Register = Callable[[Secret, Mapping[str, Secret]], None]
"""Tells the platform the one value it signs with (given the whole entry, for its other
fields). Raises ``RotationHookFailed`` when refused, ``Temporary`` when unanswered."""
Check = Callable[[Secret], Verdict]
"""Uses a value for real: a signed test webhook, the recipe's test, a command."""
SLOTS = ("current", "previous", "pending")


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
    register: Register | None = None
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

    def accepted(self, values: Mapping[str, Secret]) -> dict[str, Secret]:
        """What the hook gets: every slot, an empty one as "" (never a repeat of another)."""
        return {slot: values.get(self._slot(slot), Secret("")) for slot in SLOTS}

    def _apply(self, values: Mapping[str, Secret], *, withdrawing: bool) -> None:
        """Tell every consumer: receivers (the hook) and the platform (register).

        Adding a value: receivers first, so they accept it before the platform
        signs with it. Withdrawing one: the platform first, so it no longer
        signs with a value the receivers are about to refuse.
        """
        accepted = self.accepted(values)
        signing = accepted["pending"] or accepted["current"]
        steps: list[Callable[[], None]] = []
        if self.hook is not None:
            hook = self.hook
            steps.append(lambda: hook(accepted))
        if self.register is not None:
            register = self.register
            steps.append(lambda: register(signing, values))
        for step in reversed(steps) if withdrawing else steps:
            step()

    def _write(self, stored: Stored, values: dict[str, Secret], *, withdrawing: bool) -> None:
        self.store.write(values, cas=stored.version)
        self._apply(values, withdrawing=withdrawing)

    # --- the protocol ---------------------------------------------------------

    def observe(self) -> SinkView:
        stored = self.store.read()
        if stored is None or self.field not in stored.values:
            return SinkView("", healthy=False, problem=f"no current value for {self.field!r}")
        return SinkView(self._id(stored, "current"), healthy=True)

    def check_current(self, blue: str) -> Verdict:
        """The seed's "verify the current secret is still valid": the checks, with blue."""
        stored = self._read()
        if self._id(stored, "current") != blue:
            return Verdict((f"the store's current key changed while checking it (not {blue})",))
        verdict = self.check(stored.values[self.field])
        if verdict.ok:
            return verdict
        return Verdict(tuple(f"with the current key: {reason}" for reason in verdict.reasons))

    def authority(self, blue: str) -> str:
        return ""  # generated here: nobody's authority is needed to make a random value

    def issue(self, *, blue: str) -> Green:
        """Write the new value as pending; nothing is applied yet (validation does that)."""
        stored = self._read()
        green = Green(self.key_id(), self.generate())
        values = {
            **self._without(stored, "pending"),
            self._slot("pending"): green.value,
            self._slot("pending") + ".id": Secret(green.identifier),
        }
        self.store.write(values, cas=stored.version)
        return green

    def validate(self, green: Green) -> Verdict:
        """Apply green beside the current value (hook, then platform), then use it for real."""
        stored = self._read()
        if self._id(stored, "pending") != green.identifier:
            return Verdict((f"the store no longer holds the new key {green.identifier}",))
        self._apply(stored.values, withdrawing=False)
        return self.check(green.value)

    def promote(self, green: Green, *, blue: str) -> None:
        stored = self._read()
        if self._id(stored, "current") == green.identifier:
            self._apply(stored.values, withdrawing=False)  # written by a run that stopped
            return
        values = {
            **self._without(stored, "pending", "previous"),
            self.field: green.value,
            self.field + ".id": Secret(green.identifier),
        }
        if blue:
            values[self._slot("previous")] = stored.values[self.field]
            values[self._slot("previous") + ".id"] = Secret(blue)
        self._write(stored, values, withdrawing=False)

    def confirm_promoted(self, *, green: str, blue: str) -> None:
        self._apply(self._read().values, withdrawing=False)

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
        self._write(stored, values, withdrawing=False)

    def revoke_old(self, blue: str) -> bool:
        return self._withdraw(blue, slots=("previous",))

    def discard(self, green: str) -> bool:
        return self._withdraw(green, slots=("pending", "previous"))

    def _withdraw(self, identifier: str, *, slots: tuple[str, ...]) -> bool:
        """Remove the value labelled *identifier* from *slots* (never the current value), then
        apply the entry's values — also when an earlier, interrupted run already removed it."""
        stored = self._read()
        for slot in slots:
            if identifier and self._id(stored, slot) == identifier:
                self._write(stored, self._without(stored, slot), withdrawing=True)
                return True
        self._apply(stored.values, withdrawing=True)
        return False

    def sweep_leftovers(self, *, keep: str) -> int:
        """A pending value whose issue was never recorded is removed; the entry applied again."""
        stored = self.store.read()
        if stored is None or self.field not in stored.values:
            return 0
        pending = self._id(stored, "pending")
        if pending and pending != keep:
            self._write(stored, self._without(stored, "pending"), withdrawing=True)
            return 1
        self._apply(stored.values, withdrawing=True)
        return 0
