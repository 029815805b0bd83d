"""Crash consistency of blue/green rotation: the state file and what it describes.

Vault-token rotation (``renewer rotate devvm-token --now``, no grace): state
``green_issuing`` → mint → ``green_issued`` → validate → ``promoting`` →
``.previous`` + sink + ledger → ``green_active`` → revoke blue → state.
Static secret rotation (a webhook signing secret, the receiver's keys file
written by a post-rotation hook): pending secret in the store → webhook test
→ promote → hook → previous removed. After each kill: the state file loads
(never torn), the sink holds the old or a live new token of ours, every
secret file 0600. After the next runs: exactly one token of ours alive and
in the sink (or one secret in the store, accepted by the receiver), the
rotation at rest (``blue_active``), no ``.previous`` file, no temp file.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator

import pytest

from renewer.rotation.signing import WebhookKind
from renewer.rotation.store import RotationStore
from renewer.secretstore import Stores
from renewer.secretstore.base import Namespace
from tests import leakguard
from tests.integration.conftest import World
from tests.integration.test_rotation import TOKEN_ROTATION, previous_file
from tests.integration.test_rotation_static import CONFIG, RECIPE, TEMPLATE, accepted, stored
from tests.reliability import budget
from tests.reliability.crash import (
    Kill,
    Protocol,
    assert_private,
    kill_loop,
    random_kills,
    steps_to_kill,
    trace,
)
from tests.reliability.zygote import Outcome, Zygote
from tests.webhook_receiver import Receiver, running


class TokenRotationProtocol(Protocol):
    name = "rotation-token"
    args = ("rotate", "devvm-token", "--now")

    def __init__(self, world: World) -> None:
        world.extra = TOKEN_ROTATION.format(schedule="# by hand only", grace="0s", extra="")
        world.write_config()
        super().__init__(world.home, world.config_path)
        self.world = world
        self.old = b""

    def setup(self) -> None:
        self.world.write(self.world.mint_ours())
        assert self.world.cli("run").code == 0

    def arm(self) -> None:
        self.old = self.world.sink.read_bytes()

    def check_killed(self, outcome: Outcome) -> None:
        RotationStore(self.world.state).load("devvm-token")  # parses, or raises
        assert_private(self.world.sink)
        content = self.world.sink.read_bytes()
        if content != self.old:
            token = content.decode("ascii")
            leakguard.remember(token)
            info = self.world.lookup(token)
            assert info is not None and info["display_name"] == self.world.ours
        if previous_file(self.world).exists():
            assert_private(previous_file(self.world))
            leakguard.remember(previous_file(self.world).read_text())

    def recover(self) -> str:
        for _ in range(2):  # the first run may resume the cycle, the second sees it at rest
            result = self.world.cli("run")
            assert result.code == 0, result.err
            assert "Traceback" not in result.err
        leakguard.remember(self.world.read())
        in_file = self.world.lookup(self.world.read())
        assert in_file is not None and in_file["display_name"] == self.world.ours
        alive = self.world.ours_alive()
        assert alive == [in_file["accessor"]], f"tokens of ours alive: {alive}"
        state = RotationStore(self.world.state).load("devvm-token")
        assert state is not None and state.phase.value == "blue_active"
        assert not previous_file(self.world).exists()
        return "pass"


class StaticRotationProtocol(Protocol):
    name = "rotation-static"
    args = ("rotate", "hooks-secret", "--now")

    def __init__(self, world: World, receiver: Receiver) -> None:
        recipes = world.home / "recipes"
        recipes.mkdir()
        (recipes / "hooksvc.yaml").write_text(RECIPE.format(url=receiver.url.rsplit("/", 1)[0]))
        template = world.home / "manifest.tmpl"
        template.write_text(TEMPLATE)
        assert receiver.keys_file is not None
        world.extra = CONFIG.format(
            recipes=recipes,
            url=receiver.url,
            python=sys.executable,
            keys=receiver.keys_file,
            template=template,
        ).replace("grace: 1h", "grace: 0s")
        world.write_config()
        super().__init__(world.home, world.config_path)
        self.world = world
        self.receiver = receiver

    def setup(self) -> None:
        self.world.write(self.world.mint_ours())
        first = f"whsec-{secrets.token_urlsafe(18)}"
        leakguard.remember(first)
        assert self.receiver.keys_file is not None
        self.receiver.keys_file.write_text(json.dumps({"accept": [first]}))
        config = self.world.config()
        spec = config.credentials.credential("hooks")
        Stores(config).get(spec.store).update(
            spec.secret, Namespace.SECRET, lambda _: {"secret": first}
        )
        assert self.world.cli("run").code == 0

    def check_killed(self, outcome: Outcome) -> None:
        RotationStore(self.world.state).load("hooks-secret")
        stored(self.world)  # decrypts and parses, or raises

    def recover(self) -> str:
        for _ in range(2):
            result = self.world.cli("run")
            assert result.code == 0, result.err
            assert "Traceback" not in result.err
        state = RotationStore(self.world.state).load("hooks-secret")
        assert state is not None and state.phase.value == "blue_active"
        record = stored(self.world)
        assert accepted(self.receiver, record["secret"]), "the receiver refuses the secret in use"
        return "pass"


@pytest.fixture
def receiver(world: World) -> Iterator[Receiver]:
    keys = world.home / "receiver-keys.json"
    with running(Receiver(WebhookKind.GITHUB, keys_file=keys)) as served:
        yield served


def _protocol(kind: str, request: pytest.FixtureRequest) -> Protocol:
    world: World = request.getfixturevalue("world")
    protocol: Protocol
    if kind == "token":
        protocol = TokenRotationProtocol(world)
    else:
        protocol = StaticRotationProtocol(world, request.getfixturevalue("receiver"))
    protocol.setup()
    return protocol


@pytest.mark.floor(6, 16)
@pytest.mark.parametrize("kind", ["token", "static"])
def test_a_kill_at_every_step_leaves_a_resumable_rotation(
    request: pytest.FixtureRequest, zygote: Zygote, kind: str
) -> None:
    """Each crash point (every occurrence in the long run): the next runs finish the cycle."""
    protocol = _protocol(kind, request)
    points, _ = trace(protocol, zygote)
    steps = steps_to_kill(points, short_sample=5, salt=kind)
    kill_loop(protocol, zygote, [Kill(point=s) for s in steps], case=f"points/{protocol.name}")


@pytest.mark.floor(6, 16)
@pytest.mark.parametrize("kind", ["token", "static"])
def test_random_kills_leave_a_resumable_rotation(
    request: pytest.FixtureRequest, zygote: Zygote, kind: str
) -> None:
    """SIGKILL after a random delay within the rotation's own duration."""
    protocol = _protocol(kind, request)
    _, duration = trace(protocol, zygote)
    kills = random_kills(budget.scaled(2, 100), duration, salt=kind)
    kill_loop(protocol, zygote, kills, case=f"random-kill/{protocol.name}")
