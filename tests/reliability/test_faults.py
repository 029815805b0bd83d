"""Vault faults, injected by the dev server: bounded, jittered, honest, and nothing written.

Every fault kind the dev server has (latency past the read timeout, 500 and
503 bursts, 429 with ``Retry-After``, sealed, connection resets, truncated
and non-JSON 200s, a 200 with ``auth: null``), on renewals and on each call
of a heal. What must hold:

* a fault that outlasts the run's budget → exit 75, retries bounded (by the
  attempt count and by the deadline, never a sleep past it), jittered
  (full jitter, ``Retry-After`` as a floor), exactly **one** error line for
  the item naming the call, no traceback, the token file byte-identical;
* a burst shorter than the budget → the run succeeds;
* a call that may already have created something (create-orphan) is never
  repeated: one request, exit 75, and the next run finds and revokes
  whatever Vault minted (the ledger's ``mint_started`` flag);
* after the fault, the next run leaves exactly one token of ours, in the file.

Runs happen in this process on a virtual clock (``tests/reliability/faults.py``):
sleeps are recorded, not slept.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from renewer.core.backoff import MIN_ATTEMPT_TIME
from tests.integration.conftest import World
from tests.reliability import tally
from tests.reliability.faults import Ran, run_virtual

RENEW = "auth/token/renew-self"
LOOKUP = "auth/token/lookup-self"
MINT = "auth/token/create-orphan"

# kind → (add_fault keyword arguments); latency needs read_timeout 1s
KINDS: dict[str, dict[str, object]] = {
    "latency": {"kind": "latency", "delay": 1.6},
    "500": {"kind": "status", "status": 500},
    "502": {"kind": "status", "status": 502},
    "503": {"kind": "status", "status": 503},
    "429-retry-after": {"kind": "status", "status": 429, "retry_after": 2},
    "sealed": {"kind": "sealed"},
    "ratelimit": {"kind": "ratelimit", "retry_after": 1},
    "reset": {"kind": "reset"},
    "truncate": {"kind": "truncate"},
    "nonjson": {"kind": "nonjson"},
    "authnull": {"kind": "authnull"},
}


def counters(world: World) -> dict[str, int]:
    controls = world.vault.require_dev()
    return controls.counters()


def healthy(world: World) -> str:
    token = world.mint_ours()
    world.write(token)
    assert world.cli("run").code == 0
    return token


def assert_one_clear_line(ran: Ran, call: str) -> None:
    """Exactly one error event for the token item: vault.unreachable, naming the call."""
    errors = ran.errors()
    assert [event["event"] for event in errors] == ["vault.unreachable"], ran.err
    assert call in errors[0]["summary"], errors[0]["summary"]
    assert "Traceback" not in ran.err


def assert_recovers(world: World) -> None:
    """Fault gone: the next run ends with exactly one token of ours, in the file."""
    world.vault.require_dev().clear_faults()
    result = world.cli("run")
    assert result.code == 0, result.err
    in_file = world.lookup(world.read())
    assert in_file is not None and in_file["display_name"] == world.ours
    assert world.ours_alive() == [in_file["accessor"]]


@pytest.mark.floor(9, 10, 14)
@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_lasting_fault_on_renewal_is_bounded_temporary_and_writes_nothing(
    world: World, name: str
) -> None:
    """Every kind, until the budget is spent: 75, one line, bounded attempts, file unchanged."""
    controls = world.vault.require_dev()
    world.read_timeout = "1s"
    world.deadline = "2s" if name == "latency" else "20s"
    token = healthy(world)
    controls.reset_counters()
    controls.add_fault(path=RENEW, **KINDS[name])  # type: ignore[arg-type]

    ran = run_virtual(world)

    assert ran.code == 75, ran.err
    assert_one_clear_line(ran, "renew-self")
    assert world.read() == token
    attempts = counters(world).get(RENEW, 0)
    least = 1 if name == "latency" else 2  # one read timeout may leave too little budget
    assert least <= attempts <= 5, f"{attempts} renew-self requests"
    if attempts > 1:
        assert f"gave up after {attempts} attempts" in ran.errors()[0]["summary"]
    budget = 2.0 if name == "latency" else 20.0
    assert sum(ran.clock.slept) + MIN_ATTEMPT_TIME <= budget
    tally.record(f"fault/{name}/renew-self", tries=attempts)
    assert_recovers(world)


@pytest.mark.floor(10)
@pytest.mark.parametrize("name", ["500", "503", "429-retry-after", "sealed", "reset", "nonjson"])
def test_a_burst_shorter_than_the_budget_is_ridden_out(world: World, name: str) -> None:
    """Two failures on lookup-self and two on renew-self, then service: exit 0, renewed."""
    controls = world.vault.require_dev()
    healthy(world)
    controls.add_fault(path=LOOKUP, count=2, **KINDS[name])  # type: ignore[arg-type]
    controls.add_fault(path=RENEW, count=2, **KINDS[name])  # type: ignore[arg-type]

    ran = run_virtual(world)

    assert ran.code == 0, ran.err
    assert ran.named("token.renewed")
    assert len(ran.clock.slept) == 4
    tally.record(f"fault/{name}/burst", tries=4)


class TestRetryAfter:
    @pytest.mark.floor(10)
    def test_retry_after_is_a_floor_for_the_wait(self, world: World) -> None:
        """429 Retry-After: 3 twice: each wait is at least 3 s, then success."""
        controls = world.vault.require_dev()
        healthy(world)
        controls.add_fault(path=LOOKUP, kind="status", status=429, retry_after=3, count=2)

        ran = run_virtual(world)

        assert ran.code == 0, ran.err
        assert len(ran.clock.slept) == 2
        assert all(3.0 <= wait <= 32.0 for wait in ran.clock.slept), ran.clock.slept
        tally.record("fault/retry-after-honoured", tries=2)

    @pytest.mark.floor(10)
    def test_a_retry_after_past_the_deadline_is_not_waited_for(self, world: World) -> None:
        """Retry-After 30 with 20 s of budget: give up at once (75), never sleep past it."""
        controls = world.vault.require_dev()
        world.deadline = "20s"
        token = healthy(world)
        controls.add_fault(path=LOOKUP, kind="status", status=429, retry_after=30)

        ran = run_virtual(world)

        assert ran.code == 75
        assert ran.clock.slept == []
        assert_one_clear_line(ran, "lookup-self")
        assert world.read() == token

    @pytest.mark.floor(10)
    def test_waits_are_full_jitter_under_the_exponential_ceiling(self, world: World) -> None:
        """503 until the budget is gone: each wait in [0, min(8, 0.5·2^n)], and they vary."""
        controls = world.vault.require_dev()
        healthy(world)
        controls.add_fault(path=LOOKUP, kind="status", status=503)
        runs = [run_virtual(world, seed=seed).clock.slept for seed in (1, 2)]

        for slept in runs:
            assert slept, "no retry at all"
            for attempt, wait in enumerate(slept, start=1):
                assert 0.0 <= wait <= min(8.0, 0.5 * 2 ** (attempt - 1))
        assert runs[0] != runs[1], "two seeds gave the same waits: no jitter"
        tally.record("fault/jitter", tries=sum(len(slept) for slept in runs))


HEAL_FAULTS = {
    # name: (path, fault, skip)
    "lookup-self-latency": (LOOKUP, KINDS["latency"], 0),
    "lookup-self-503": (LOOKUP, KINDS["503"], 0),
    "create-orphan-latency": (MINT, KINDS["latency"], 0),
    "create-orphan-500": (MINT, KINDS["500"], 0),
    "create-orphan-503": (MINT, KINDS["503"], 0),
    "create-orphan-reset": (MINT, KINDS["reset"], 0),
    "create-orphan-truncate": (MINT, KINDS["truncate"], 0),
    "create-orphan-nonjson": (MINT, KINDS["nonjson"], 0),
    "create-orphan-authnull": (MINT, KINDS["authnull"], 0),
    "minted-lookup-latency": (LOOKUP, KINDS["latency"], 1),
    "minted-lookup-503": (LOOKUP, KINDS["503"], 1),
}


SLOW_IN_CI = {"lookup-self-latency"}  # the same path as lookup-self-503, with real waits


@pytest.mark.floor(9, 10, 14, 16)
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.slow) if name in SLOW_IN_CI else name
        for name in sorted(HEAL_FAULTS)
    ],
)
def test_a_fault_in_any_call_of_a_heal_is_temporary_and_leaks_nothing(
    world: World, name: str
) -> None:
    """75, one line, the clobbered file untouched; create-orphan never repeated; then one token."""
    controls = world.vault.require_dev()
    path, fault, skip = HEAL_FAULTS[name]
    world.read_timeout = "1s"
    world.deadline = "2s"
    healthy(world)
    clobber = world.admin_clobber()
    world.write(clobber)
    controls.reset_counters()
    controls.add_fault(path=path, skip=skip, **fault)  # type: ignore[arg-type]

    ran = run_virtual(world)

    assert ran.code == 75, ran.err
    action = "create-orphan" if path == MINT else "lookup-self"
    assert_one_clear_line(ran, action)
    assert world.read() == clobber
    if path == MINT and (fault["kind"] != "status" or fault.get("status") == 500):
        assert counters(world).get(MINT) == 1, "a mint that may have happened was repeated"
    tally.record(f"fault/heal/{name}")
    if path == MINT and fault["kind"] == "latency":
        time.sleep(0.7)  # the dev server is still serving the stalled request (and minting)
    assert_recovers(world)


@pytest.mark.floor(15, 16)
def test_a_minted_token_that_cannot_be_checked_nor_revoked_is_named_and_revoked_later(
    world: World,
) -> None:
    """Vault stops answering after the mint: 75, the message says the token is still alive,
    and the next run revokes it (it stayed pending in the ledger)."""
    controls = world.vault.require_dev()
    world.deadline = "3s"
    healthy(world)
    clobber = world.admin_clobber()
    world.write(clobber)
    controls.add_fault(path=LOOKUP, skip=1, **KINDS["503"])  # type: ignore[arg-type]
    controls.add_fault(path="auth/token/revoke-self", **KINDS["503"])  # type: ignore[arg-type]

    ran = run_virtual(world)

    assert ran.code == 75, ran.err
    assert_one_clear_line(ran, "could not be checked")
    assert "could not be revoked now" in ran.errors()[0]["summary"]
    assert "it was revoked" not in ran.errors()[0]["summary"]
    assert world.read() == clobber
    assert len(world.ours_alive()) == 2
    assert_recovers(world)


@pytest.mark.floor(15)
@pytest.mark.parametrize("status", [403, 400])
def test_a_minted_token_that_cannot_look_itself_up_is_revoked(world: World, status: int) -> None:
    """testSecret before finishSecret: the new token is revoked, the old file and token kept."""
    controls = world.vault.require_dev()
    old = healthy(world)
    clobber = world.admin_clobber()
    world.write(clobber)
    controls.add_fault(path=LOOKUP, kind="status", status=status, skip=1, count=1)

    ran = run_virtual(world)

    assert ran.code == 1, ran.err
    failed = ran.named("token.heal_failed")
    assert failed and "revoked" in failed[0]["summary"]
    assert world.read() == clobber
    assert world.lookup(old) is not None, "the old token of ours is not revoked by a failed heal"
    assert world.lookup(clobber) is not None
    assert world.ours_alive() == [world.lookup(old)["accessor"]]  # type: ignore[index]


@pytest.mark.floor(16)
def test_a_mint_whose_answer_was_lost_is_revoked_even_with_ledger_only_sweeps(
    world: World,
) -> None:
    """Vault minted, the answer timed out: the next heal revokes it, whatever the sweep mode."""
    controls = world.vault.require_dev()
    world.sweep = "ledger"
    world.read_timeout = "1s"
    world.deadline = "2s"
    healthy(world)
    world.write(world.admin_clobber())
    controls.add_fault(path=MINT, count=1, **KINDS["latency"])  # type: ignore[arg-type]

    lost = run_virtual(world)

    assert lost.code == 75
    time.sleep(1.0)  # the dev server answers (and mints) after its 1.6 s delay
    assert len(world.ours_alive()) == 2, "the mint happened in Vault"
    assert_recovers(world)


@pytest.mark.floor(16)
def test_finding_a_lost_mint_spares_strays_under_ledger_only_sweeps(world: World) -> None:
    """sweep: ledger: the scan that finds the lost mint revokes only tokens marked as ours.

    A token named like ours but made by hand (no renewer marks) is the seed's
    stray: only the modes that sweep strays (on-heal, always, sweep --full) revoke it.
    """
    controls = world.vault.require_dev()
    world.sweep = "ledger"
    world.read_timeout = "1s"
    world.deadline = "2s"
    healthy(world)
    by_hand = world.mint_ours()  # no owner marks: not renewer's, whatever its name
    world.write(world.admin_clobber())
    controls.add_fault(path=MINT, count=1, **KINDS["latency"])  # type: ignore[arg-type]
    assert run_virtual(world).code == 75
    time.sleep(1.0)  # the dev server answers (and mints) after its 1.6 s delay
    controls.clear_faults()

    result = world.cli("run")

    assert result.code == 0, result.err
    in_file = world.lookup(world.read())
    assert in_file is not None
    stray = world.lookup(by_hand)
    assert stray is not None, "a stray is not swept under sweep: ledger"
    assert sorted(world.ours_alive()) == sorted([in_file["accessor"], stray["accessor"]])
    assert "no renewer marks left alone" in result.out + result.err


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A TCP port that accepts connections (the kernel's backlog) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


@pytest.mark.floor(9)
@pytest.mark.parametrize(
    "where",
    [
        pytest.param("refused", id="connection-refused", marks=pytest.mark.slow),  # as in
        pytest.param("dns", id="dns-failure"),  # tests/integration/test_token_run.py
        pytest.param("blackhole", id="blackhole"),
    ],
)
def test_an_unreachable_vault_is_bounded_by_the_deadline(
    world: World, where: str, request: pytest.FixtureRequest
) -> None:
    """Refused, unresolvable, or silent: exit 75 within the deadline (+ one timeout), file kept."""
    token = healthy(world)
    world.read_timeout = "1s"
    world.deadline = "2s"
    world.addr = {
        "refused": "http://127.0.0.1:9",
        "dns": "https://vault.invalid:8200",
        "blackhole": request.getfixturevalue("blackhole") if where == "blackhole" else "",
    }[where]
    started = time.monotonic()

    result = world.cli("run")

    elapsed = time.monotonic() - started
    assert result.code == 75, result.err
    assert elapsed < 2 + 1 + 1.5, f"took {elapsed:.1f}s"
    event = result.event("vault.unreachable")
    assert "cannot reach Vault" in event["summary"] or "in time" in event["summary"]
    assert [e["event"] for e in result.events() if e.get("level") == "error"] == [
        "vault.unreachable"
    ]
    assert world.read() == token
    tally.record(f"fault/unreachable/{where}")
