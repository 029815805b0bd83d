"""An in-memory rotation target for the unit tests: a tiny world of live credentials.

Not a mock: a small real implementation of the target protocol whose
"Vault" is a set of live identifiers and whose "sink" is one identifier. It
enforces the safety rule itself: revoking the credential in the sink fails
the test on the spot. Credentials it did not issue (``foreign``: made by
hand, by a heal) live in the same "Vault"; its leftover sweep, like the real
targets', removes only what it issued.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from renewer.core.drift import Verdict
from renewer.core.secret import Secret
from renewer.errors import VaultDenied, VaultUnavailable
from renewer.rotation.plan import SinkView
from renewer.rotation.targets.base import Green
from renewer.rotation.targets.static import StoreConflict, Stored


class Crash(BaseException):
    """A simulated kill -9: nothing after it runs (not an Exception: no handler catches it)."""


@dataclass
class FakeWorld:
    """Live credentials, the sink, and what happened to them."""

    live: set[str] = field(default_factory=lambda: {"k0"})
    foreign: set[str] = field(default_factory=set)  # alive, never issued by the rotation
    issued: set[str] = field(default_factory=set)  # what the rotation issued
    sink: str = "k0"
    previous: str | None = None  # blue's value kept beside the sink during the grace
    counter: int = 0
    revoked: list[str] = field(default_factory=list)  # effective revocations, in order
    bad: set[str] = field(default_factory=set)  # identifiers that fail validation
    fail_next_validation: bool = False
    current_broken: bool = False  # blue fails check_current
    refuse_issue: bool = False
    unavailable: set[str] = field(default_factory=set)  # target methods that raise 75

    def revoke(self, identifier: str) -> bool:
        assert identifier != self.sink, f"revoked the active credential {identifier}"
        if identifier not in self.live:
            return False
        self.live.remove(identifier)
        self.revoked.append(identifier)
        return True


class FakeTarget:
    """The target protocol over a :class:`FakeWorld`."""

    kind = "fake"
    noun = "key"

    def __init__(self, world: FakeWorld, checkpoint: Callable[[str], None] = lambda _: None):
        self.world = world
        self.checkpoint = checkpoint
        self.calls: list[str] = []

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.world.unavailable:
            raise VaultUnavailable(f"{name}: cannot reach Vault")

    def observe(self) -> SinkView:
        self._call("observe")
        alive = self.world.sink in self.world.live
        return SinkView(
            identifier=self.world.sink if alive else "",
            healthy=alive,
            problem="" if alive else "the sink's credential is dead",
        )

    def check_current(self, blue: str) -> Verdict:
        self._call("check_current")
        return Verdict(("refused",)) if self.world.current_broken else Verdict()

    def authority(self, blue: str) -> str:
        return f"the current key {blue}" if blue else ""

    def issue(self, *, blue: str) -> Green:
        self._call("issue")
        if self.world.refuse_issue:
            raise VaultDenied("issue: permission denied")
        self.world.counter += 1
        identifier = f"k{self.world.counter}"
        self.world.live.add(identifier)
        self.world.issued.add(identifier)
        return Green(identifier, Secret(f"value-of-{identifier}"))

    def validate(self, green: Green) -> Verdict:
        self._call("validate")
        if self.world.fail_next_validation or green.identifier in self.world.bad:
            self.world.fail_next_validation = False
            return Verdict(("login with it was refused",))
        return Verdict()

    def promote(self, green: Green, *, blue: str) -> None:
        self._call("promote")
        self.world.previous = self.world.sink
        self.checkpoint("fake.promote.previous_written")
        self.world.sink = green.identifier

    def confirm_promoted(self, *, green: str, blue: str) -> None:
        self._call("confirm_promoted")

    def restore_blue(self, *, blue: str) -> None:
        self._call("restore_blue")
        assert self.world.previous == blue
        self.world.sink = blue

    def revoke_old(self, blue: str) -> bool:
        self._call("revoke_old")
        gone = self.world.revoke(blue)
        self.world.previous = None
        return gone

    def discard(self, green: str) -> bool:
        self._call("discard")
        gone = self.world.revoke(green)
        if self.world.previous == self.world.sink:
            self.world.previous = None
        return gone

    def sweep_leftovers(self, *, keep: str) -> int:
        self._call("sweep_leftovers")
        if not keep:
            return 0
        leftovers = sorted((self.world.live & self.world.issued) - {keep})
        for identifier in leftovers:
            self.world.revoke(identifier)
        return len(leftovers)


class InMemorySecretStoreDouble:
    """TEST DOUBLE of the static target's ``SecretStore``: one entry in a dict, with CAS.

    Not a real store: the credentials layer's Vault KV v2 and encrypted file
    stores are bound to the protocol when that layer lands. *interfere* lets a
    test play a concurrent writer just before the next write.
    """

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values: dict[str, Secret] = {k: Secret(v) for k, v in (values or {}).items()}
        self.version = 1 if values else 0
        self.writes = 0
        self.interfere = False

    def read(self) -> Stored | None:
        if not self.version:
            return None
        return Stored(dict(self.values), self.version)

    def write(self, values: Mapping[str, Secret], *, cas: int) -> int:
        if self.interfere:
            self.interfere = False
            self.version += 1
        if cas != self.version:
            raise StoreConflict(f"check-and-set mismatch: at version {self.version}, not {cas}")
        self.values = dict(values)
        self.version += 1
        self.writes += 1
        return self.version

    def plain(self) -> dict[str, str]:
        """The entry's values, revealed (tests only)."""
        return {name: value.reveal() for name, value in self.values.items()}
