"""Crash consistency of the token protocols: the heal, and the ledger's bookkeeping.

Heal (``renewer run`` on a clobbered sink): ledger ``begin_mint`` → mint →
ledger ``minted`` → token file → ledger ``committed`` → sweep → ledger →
state. Ledger (``renewer run`` on a sink holding a newer token of ours the
ledger never saw): reconcile → renew → ledger ``observe`` → sweep the
superseded token → ledger ``revoked``. After each kill: the token file is
the clobbering token or a live token of ours (never empty, torn, or
someone else's), the ledger parses, every file is 0600. After the next run:
exit 0, exactly one token of ours alive in the dev server and it is the one
in the file (a minted token is in the file or revoked), no temp file left.
"""

from __future__ import annotations

import json

import pytest

from renewer.tokens.ledger import Ledger
from tests import leakguard
from tests.integration.conftest import World
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


class TokenProtocol(Protocol):
    def __init__(self, world: World) -> None:
        world.write_config()
        super().__init__(world.home, world.config_path)
        self.world = world
        self.old = b""

    def setup(self) -> None:
        self.world.write(self.world.mint_ours())
        assert self.world.cli("run").code == 0

    def _assert_sink_old_or_ours(self) -> None:
        content = self.world.sink.read_bytes()
        assert_private(self.world.sink)
        if content == self.old:
            return
        token = content.decode("ascii")
        leakguard.remember(token)
        info = self.world.lookup(token)
        assert info is not None, "the sink holds a token Vault does not know (torn or revoked)"
        assert info["display_name"] == self.world.ours, "the sink holds someone else's token"

    def _assert_ledger_parses(self) -> None:
        path = self.world.state / "ledger.json"
        if path.exists():
            assert_private(path)
            ledger = Ledger(self.world.state)
            assert not ledger.warning, ledger.warning

    def check_killed(self, outcome: Outcome) -> None:
        self._assert_sink_old_or_ours()
        self._assert_ledger_parses()
        state = self.world.state / "state.json"
        if state.exists():
            assert_private(state)
            json.loads(state.read_text())

    def recover(self) -> str:
        result = self.world.cli("run")
        assert result.code == 0, result.err
        assert "Traceback" not in result.err
        in_file = self.world.lookup(self.world.read())
        assert in_file is not None and in_file["display_name"] == self.world.ours
        alive = self.world.ours_alive()
        assert alive == [in_file["accessor"]], f"tokens of ours alive: {alive}"
        self._assert_ledger_parses()
        return "pass"


class HealProtocol(TokenProtocol):
    name = "heal"

    def arm(self) -> None:
        clobber = self.world.admin_clobber()
        self.world.write(clobber)
        self.old = clobber.encode()


class LedgerProtocol(TokenProtocol):
    """A newer token of ours appears in the sink: the ledger adopts it, sweeps the older one."""

    name = "ledger"

    def arm(self) -> None:
        newer = self.world.mint_ours()
        self.world.write(newer)
        self.old = newer.encode()  # this protocol never rewrites the sink


def _protocol(kind: str, world: World) -> Protocol:
    world.sweep = "ledger" if kind == "ledger" else "on-heal"
    protocol = HealProtocol(world) if kind == "heal" else LedgerProtocol(world)
    protocol.setup()
    return protocol


@pytest.mark.floor(6, 16)
@pytest.mark.parametrize("kind", ["heal", "ledger"])
def test_a_kill_at_every_step_loses_and_leaks_nothing(
    world: World, zygote: Zygote, kind: str
) -> None:
    """Each crash point (every occurrence in the long run): old-or-new, then one token of ours."""
    protocol = _protocol(kind, world)
    points, _ = trace(protocol, zygote)
    assert points, "the protocol passed no crash point"
    steps = steps_to_kill(points, short_sample=None, salt=kind)
    kill_loop(protocol, zygote, [Kill(point=step) for step in steps], case=f"points/{kind}")


@pytest.mark.floor(6, 16)
@pytest.mark.parametrize("kind", ["heal", "ledger"])
def test_random_kills_lose_and_leak_nothing(world: World, zygote: Zygote, kind: str) -> None:
    """SIGKILL after a random delay within the protocol's own duration, many times."""
    protocol = _protocol(kind, world)
    _, duration = trace(protocol, zygote)
    kills = random_kills(budget.scaled(3, 120), duration, salt=kind)
    kill_loop(protocol, zygote, kills, case=f"random-kill/{kind}")
