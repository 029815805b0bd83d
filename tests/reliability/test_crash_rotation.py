"""Crash consistency of blue/green rotation: the state file and what it describes.

A cycle spans two runs (the grace is never 0), so each kind has two protocols:

* **promotion** (``renewer rotate NAME --now``): vault-token: state
  ``green_issuing`` → mint → ``green_issued`` → validate → ``promoting`` →
  ``.previous`` + sink + ledger → ``green_active``; static (a webhook signing
  secret, the receiver's keys file written by a post-rotation hook): pending
  secret in the store → hook → test webhook → promote → hook;
* **withdrawal** (``renewer rotate NAME`` after the grace, promoted in-process
  with a clock two hours back): ``blue_revoking`` → revoke blue / remove the
  previous secret → hook → ``blue_active``.

After each kill: the state file loads (never torn), the sink holds the old or
a live new token of ours, every secret file 0600. After the next runs (past
the grace, with a clock two hours ahead): exactly one token of ours alive and
in the sink (or one secret in the store, the only one the receiver accepts),
the rotation at rest (``blue_active``), no ``.previous`` file, no temp file.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Iterator

import pytest

from renewer.logging import configure
from renewer.rotation.runner import run_rotations
from renewer.rotation.signing import WebhookKind
from renewer.rotation.store import RotationStore
from renewer.run import Runtime, run_once, token_env
from renewer.secretstore import Stores
from renewer.secretstore.base import Namespace
from tests import leakguard
from tests.integration.conftest import World
from tests.integration.rotating import HOUR, TOKEN_ROTATION, previous_file
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


def run_at(world: World, when: float) -> None:
    """`renewer run` in this process with the wall clock at *when*; every item must be fine."""
    configure("json", environ={})
    results = run_once(world.config(), runtime=Runtime(wall_clock=lambda: when))
    assert all(r.outcome.exit_code == 0 for r in results), [r.summary for r in results]


def promote_in_the_past(world: World, name: str) -> None:
    """`renewer rotate NAME --now` two hours ago: the 1 h grace is over now."""
    configure("json", environ={})
    config, when = world.config(), time.time() - 2 * HOUR
    with token_env(config, Runtime(wall_clock=lambda: when), dry_run=False) as env:
        (result,) = run_rotations(config, env=env, now=when, only=[name], force=True)
    assert result.event == "rotation.rotated", result.summary


def recover_past_the_grace(world: World) -> None:
    """Resume (a promotion confirmed now starts its grace), complete, rest: runs hours apart."""
    later = time.time() + 2 * HOUR
    for when in (later, later + 2 * HOUR, later + 4 * HOUR):
        run_at(world, when)


class TokenRotationProtocol(Protocol):
    name = "rotation-token"
    args: tuple[str, ...] = ("rotate", "devvm-token", "--now")

    def __init__(self, world: World) -> None:
        world.extra = TOKEN_ROTATION.format(schedule="# by hand only", grace="1h", extra="")
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
        recover_past_the_grace(self.world)
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
    args: tuple[str, ...] = ("rotate", "hooks-secret", "--now")

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
        )
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
        recover_past_the_grace(self.world)
        state = RotationStore(self.world.state).load("hooks-secret")
        assert state is not None and state.phase.value == "blue_active"
        record = stored(self.world)
        assert accepted(self.receiver, record["secret"]), "the receiver refuses the secret in use"
        assert self.receiver.keys_file is not None
        keys = [key for key in json.loads(self.receiver.keys_file.read_text())["accept"] if key]
        assert keys == [record["secret"]], "the receiver still accepts another secret at rest"
        return "pass"


class TokenWithdrawalProtocol(TokenRotationProtocol):
    """After the grace: `renewer rotate devvm-token` revokes blue (promoted in-process)."""

    name = "rotation-token-withdraw"
    args = ("rotate", "devvm-token")

    def arm(self) -> None:
        promote_in_the_past(self.world, "devvm-token")
        leakguard.remember(self.world.read())
        super().arm()


class StaticWithdrawalProtocol(StaticRotationProtocol):
    """After the grace: `renewer rotate hooks-secret` removes the old secret, runs the hook."""

    name = "rotation-static-withdraw"
    args = ("rotate", "hooks-secret")

    def arm(self) -> None:
        promote_in_the_past(self.world, "hooks-secret")


@pytest.fixture
def receiver(world: World) -> Iterator[Receiver]:
    keys = world.home / "receiver-keys.json"
    with running(Receiver(WebhookKind.GITHUB, keys_file=keys)) as served:
        yield served


KINDS = ["token", "static", "token-withdraw", "static-withdraw"]


def _protocol(kind: str, request: pytest.FixtureRequest) -> Protocol:
    world: World = request.getfixturevalue("world")
    protocol: Protocol
    if kind == "token":
        protocol = TokenRotationProtocol(world)
    elif kind == "token-withdraw":
        protocol = TokenWithdrawalProtocol(world)
    elif kind == "static":
        protocol = StaticRotationProtocol(world, request.getfixturevalue("receiver"))
    else:
        protocol = StaticWithdrawalProtocol(world, request.getfixturevalue("receiver"))
    protocol.setup()
    return protocol


@pytest.mark.floor(6, 16)
@pytest.mark.parametrize("kind", KINDS)
def test_a_kill_at_every_step_leaves_a_resumable_rotation(
    request: pytest.FixtureRequest, zygote: Zygote, kind: str
) -> None:
    """Each crash point (every occurrence in the long run): the next runs finish the cycle."""
    protocol = _protocol(kind, request)
    points, _ = trace(protocol, zygote)
    steps = steps_to_kill(points, short_sample=5, salt=kind)
    kill_loop(protocol, zygote, [Kill(point=s) for s in steps], case=f"points/{protocol.name}")


@pytest.mark.floor(6, 16)
@pytest.mark.parametrize("kind", KINDS)
def test_random_kills_leave_a_resumable_rotation(
    request: pytest.FixtureRequest, zygote: Zygote, kind: str
) -> None:
    """SIGKILL after a random delay within the rotation's own duration."""
    protocol = _protocol(kind, request)
    _, duration = trace(protocol, zygote)
    kills = random_kills(budget.scaled(2, 100), duration, salt=kind)
    kill_loop(protocol, zygote, kills, case=f"random-kill/{protocol.name}")
