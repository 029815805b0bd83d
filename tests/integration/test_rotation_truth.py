"""What rotation says is what happened (issue 19, items 3 to 6), against the Vault peer.

Each test is a situation a new user met on a real OpenBao and the words or
status renewer gave: a run that ended one cycle and started the next, a
by-hand rotation after a failure, `renewer status` after a failed `rotate`,
a healthy grace after a failed cycle, a heal during the grace.
"""

from __future__ import annotations

import json
import sys
import time

import pytest

from tests import leakguard
from tests.integration.conftest import World
from tests.integration.rotating import DAY, HOUR, Rotating
from tests.integration.test_rotation import APPROLE_ROTATION, approle_setup

FAILING_CHECK = (
    f'    check: ["{sys.executable}", "-c", "raise SystemExit(3)", "{{credential_file}}"]\n'
)


@pytest.fixture
def rot(world: World) -> Rotating:
    return Rotating(world)


class TestWords:
    def test_a_run_that_ends_a_cycle_and_starts_the_next_tells_both_apart(
        self, rot: Rotating
    ) -> None:
        """`ROTATED ... the old token X was revoked` while X was alive in its grace (2 tokens on
        the server): the old cycle's withdrawal and the new cycle's grace are told apart."""
        world = rot.token_rotation(grace="1h").world
        first = world.mint_ours()
        world.write(first)
        w = rot.accessor_of(first)
        start = time.time()
        assert rot.rotate_at(start, force=True).event == "rotation.rotated"
        second = world.read()
        leakguard.remember(second)
        x = rot.accessor_of(second)

        result = rot.rotate_at(start + 2 * HOUR, force=True)

        third = world.read()
        leakguard.remember(third)
        y = rot.accessor_of(third)
        assert result.event == "rotation.rotated"
        assert result.summary.startswith(
            f"ROTATED devvm-token: withdrew the old token {w} after its grace; {x} is the only "
            f"one; then new token {y} active; the old token {x} stays valid until "
        )
        assert "was revoked" not in result.summary
        assert world.lookup(first) is None
        assert sorted(world.ours_alive()) == sorted([x, y]), "X stays valid in its grace"

    def test_an_approle_secret_id_is_issued_with_the_tokens_authority(
        self, rot: Rotating, world: World
    ) -> None:
        """`issued a new secret-id ... with the authority of <old secret-id>`: the authority is
        the token sink's token, and the words say so."""
        role = approle_setup(world)
        rot.rotations = APPROLE_ROTATION.format(role=role, home=world.home)
        assert rot.cli("rotate", "ci", "--now").code == 0
        leakguard.remember((world.home / "ci" / "secret-id").read_text())

        result = rot.cli("rotate", "ci", "--now")

        assert result.code == 0, result.err
        started = result.event("rotation.started")["summary"]
        assert f"with the authority of the token in {world.sink} (token sink 'devvm')" in started
        leakguard.remember((world.home / "ci" / "secret-id").read_text())


class TestByHand:
    def test_a_failed_by_hand_cycle_is_never_retried_by_a_run(self, rot: Rotating) -> None:
        """No schedule, a failed cycle, then runs long after retry_after: nothing is issued."""
        world = rot.token_rotation(extra=FAILING_CHECK).world
        blue = world.mint_ours()
        world.write(blue)
        assert rot.cli("rotate", "devvm-token", "--now").code == 1

        later = rot.run_at(time.time() + 3 * DAY)["rotation/devvm-token"]

        assert later.event == "rotation.unchanged"
        assert "retry by hand: renewer rotate devvm-token --now" in later.summary
        assert world.read() == blue
        assert world.ours_alive() == [rot.accessor_of(blue)]


class TestStatus:
    def test_status_and_the_banner_see_a_failed_rotate_at_once(self, rot: Rotating) -> None:
        """`renewer status` said healthy (exit 0) after a failed `renewer rotate`, and the login
        banner stayed silent until the next run."""
        world = rot.token_rotation(extra=FAILING_CHECK).world
        world.write(world.mint_ours())
        assert rot.cli("run").code == 0
        assert rot.cli("rotate", "devvm-token", "--now").code == 1

        status = rot.cli("status", "--json")
        banner = rot.cli("status", "--brief")

        assert status.code == 1
        items = {item["key"]: item for item in json.loads(status.out)["items"]}
        assert items["rotation/devvm-token"]["healthy"] is False
        assert "VALIDATION FAILED" in items["rotation/devvm-token"]["summary"]
        assert banner.code == 1
        assert "rotation/devvm-token" in banner.out

    def test_a_healthy_grace_after_a_failed_cycle_is_ok(self, rot: Rotating) -> None:
        """`FAIL ... last cycle failed: ` (no reason) during a healthy grace: the newer cycle
        supersedes the old failure."""
        world = rot.token_rotation(extra=FAILING_CHECK).world
        world.write(world.mint_ours())
        assert rot.cli("rotate", "devvm-token", "--now").code == 1
        rot.token_rotation()  # the check is fixed
        assert rot.cli("rotate", "devvm-token", "--now").code == 0
        leakguard.remember(world.read())

        status = rot.cli("rotation", "status")

        assert status.code == 0, status.out
        assert status.out.startswith("ok    devvm-token")
        assert "green_active" in status.out and "cycle started" in status.out
        assert "last cycle failed" not in status.out

    def test_a_heal_during_the_grace_is_told_at_the_completion(self, rot: Rotating) -> None:
        """The cycle's new token X was replaced by a heal's Z during the grace: the completion
        names Z as what the sink holds, never `X is the only one` with X revoked."""
        world = rot.token_rotation(grace="1h").world
        blue = world.mint_ours()
        world.write(blue)
        start = time.time()
        assert rot.rotate_at(start, force=True).event == "rotation.rotated"
        green = world.read()
        leakguard.remember(green)
        x = rot.accessor_of(green)
        world.write(world.admin_clobber())
        healed = rot.run_at(start + 60)
        assert healed["token/devvm"].event == "token.healed", healed["token/devvm"].summary
        z = rot.accessor_of(world.read())
        leakguard.remember(world.read())

        done = rot.run_at(start + 2 * HOUR)["rotation/devvm-token"]

        assert done.event == "rotation.completed", done.summary
        assert f"the sink holds {z}, not the cycle's new token {x}" in done.summary
        assert world.lookup(blue) is None
        assert rot.state()["blue"] == z
        assert z in world.ours_alive()
