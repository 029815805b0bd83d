"""Floor cases of perf-reliability-notes §5 not covered by a module of their own, and the map.

* 11: a 403 on ``renew-self`` is "cannot renew" (exit 1, tried once, one
  line); a denied ``LIST auth/token/accessors`` skips the full scan with one
  clear message and the heal stands;
* 13: an expired or revoked token: nothing written, the login reported,
  exactly one ``lookup-self`` (no retries);
* 17: accessors vanishing between the LIST and their lookups, a 429 in the
  middle of a sweep, a Vault with a thousand tokens (ten thousand in the
  long run), more accessors than ``run.sweep_max_accessors``: never the
  current token, never a foreign one, every stale one of ours revoked;
* 18: ``VAULT_TOKEN``, ``VAULT_ADDR``, proxies and ``REQUESTS_CA_BUNDLE`` in
  the environment change nothing; the address's source is reported, never a
  token;
* 19: the wall clock an hour off either way, and a VM resumed after a long
  sleep: decisions follow Vault's ``ttl``, not local arithmetic.

The last test is the map itself: every one of the twenty floor cases is
claimed by at least one test somewhere in ``tests/`` (``@pytest.mark.floor``).
"""

from __future__ import annotations

import ast
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from renewer.config import load_config
from renewer.core.outcome import exit_code
from renewer.logging import configure
from renewer.run import Runtime, run_once
from tests import leakguard
from tests.integration.conftest import POLICIES, World
from tests.peers.hostile_vault import HostileVault
from tests.reliability import budget, tally
from tests.reliability.faults import run_virtual
from tests.vaultpeer import PEERS, VaultPeer, started_peer

ROOT = Path(__file__).resolve().parents[2]
LOOKUP = "auth/token/lookup-self"
ACCESSORS = "auth/token/accessors"


def healthy(world: World) -> str:
    token = world.mint_ours()
    world.write(token)
    assert world.cli("run").code == 0
    return token


# --- 11 ------------------------------------------------------------------------------


@pytest.mark.floor(11)
@pytest.mark.parametrize(
    ("message", "expected", "see"),
    [
        ("permission denied", "token.invalid", "#reauth-required"),  # died after lookup-self
        (None, "token.failed", "#vault-denied"),  # a policy without renew-self
    ],
    ids=["dead-token", "policy-denial"],
)
def test_a_403_on_renew_self_is_cannot_renew_tried_once(
    world: World, message: str | None, expected: str, see: str
) -> None:
    """Either 403 is reported once, with the runbook section its shape calls for."""
    controls = world.vault.require_dev()
    token = healthy(world)
    controls.reset_counters()
    controls.add_fault(kind="status", status=403, path="auth/token/renew-self", message=message)

    ran = run_virtual(world)

    assert ran.code == 1, ran.err
    assert [event["event"] for event in ran.errors()] == [expected]
    assert ran.errors()[0]["see"].endswith(see)
    assert controls.counters().get("auth/token/renew-self") == 1, "a 403 was retried"
    assert ran.clock.slept == []
    assert world.read() == token
    tally.record("floor/403-renew-self", outcome=expected)


@pytest.mark.floor(11)
def test_a_denied_accessor_listing_skips_the_full_scan_and_the_heal_stands(world: World) -> None:
    controls = world.vault.require_dev()
    healthy(world)
    world.write(world.admin_clobber())
    controls.add_fault(kind="status", status=403, path=ACCESSORS, method="LIST")

    ran = run_virtual(world)

    assert ran.code == 0, ran.err
    healed = ran.named("token.healed")
    assert healed and "full scan skipped: listing accessors was denied" in healed[0]["summary"]
    assert ran.errors() == []
    assert controls.counters().get(ACCESSORS) == 1, "a denied LIST was retried"
    tally.record("floor/403-list-accessors")


# --- 12 ------------------------------------------------------------------------------


@pytest.mark.floor(12)
@pytest.mark.parametrize("warning", [False, True], ids=["ttl-did-not-grow", "capped-warning"])
def test_a_renewal_that_does_not_extend_is_a_warning_with_the_time_left(
    world: World, warning: bool
) -> None:
    """200 from renew-self, but the lease stays short: token.renew_capped, not 'OK renewed'."""
    impostor = HostileVault()
    try:
        world.addr = impostor.url
        world.sink.write_text("hvs.CAESIrenewedbutnotextended00000")
        world.sink.chmod(0o600)
        data = {"accessor": "a1", "display_name": world.ours, "ttl": 3000, "period": 2764800}
        data["orphan"] = True
        data["policies"] = ["default", "renewer-test-admin"]
        impostor.answer(LOOKUP, {"data": data})
        grant = {"auth": {"client_token": "x", "lease_duration": 3000}, "warnings": []}
        if warning:
            grant["warnings"] = ["TTL of 768h exceeded the effective max_ttl; TTL value is capped"]
        impostor.answer("auth/token/renew-self", grant)

        ran = run_virtual(world)
    finally:
        impostor.stop()

    assert ran.code == 0, ran.err
    capped = ran.named("token.renew_capped")
    assert capped and "renewer mint devvm" in capped[0]["summary"]
    assert not ran.named("token.renewed")
    tally.record("floor/capped-renewal")


# --- 13 ------------------------------------------------------------------------------


@pytest.mark.floor(13)
@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_a_dead_token_is_reported_once_without_retries_and_nothing_is_written(
    world: World, how: str
) -> None:
    controls = world.vault.require_dev()
    token = world.create(
        policies=["renewer-test-admin"], ttl="2s", display_name=world.display, no_parent=True
    )
    world.write(token)
    if how == "expired":
        world.vault.elapse(3)
    else:
        world.vault.request("POST", "auth/token/revoke", json={"token": token})
    controls.reset_counters()

    ran = run_virtual(world)

    assert ran.code == 1
    assert [event["event"] for event in ran.errors()] == ["token.invalid"]
    assert "renewer mint devvm" in ran.errors()[0]["summary"]
    assert controls.counters() == {LOOKUP: 1}, controls.counters()
    assert world.read() == token
    tally.record(f"floor/dead-token-{how}")


# --- 17 ------------------------------------------------------------------------------


@pytest.fixture
def private_world(world: World, policies: None) -> Iterator[World]:
    """The world on a server of its own, of the session's kind (dev server or OpenBao):
    big token stores and jumps of the clock must not touch the other tests."""
    with started_peer(world.vault.kind if world.vault.kind in PEERS else "devserver") as peer:
        for name, text in POLICIES.items():
            peer.request("PUT", f"sys/policies/acl/{name}", json={"policy": text})
        world.vault = peer
        yield world


def create_many(peer: VaultPeer, count: int, **body: object) -> list[str]:
    """*count* tokens made by root in parallel; returns their accessors."""

    def batch(size: int) -> list[str]:
        with requests.Session() as session:
            accessors = []
            for _ in range(size):
                response = session.post(
                    f"{peer.addr}/v1/auth/token/create",
                    headers={"X-Vault-Token": peer.root_token},
                    json=body,
                    timeout=10,
                )
                accessors.append(response.json()["auth"]["accessor"])
            return accessors

    workers = 4
    with ThreadPoolExecutor(workers) as pool:
        sizes = [count // workers + (i < count % workers) for i in range(workers)]
        return [accessor for part in pool.map(batch, sizes) for accessor in part]


@pytest.mark.floor(17)
def test_a_large_vault_is_swept_of_ours_only(private_world: World) -> None:
    """Hundreds or thousands of foreign tokens, a few stale ones of ours: exactly ours go."""
    world = private_world
    world.deadline = "300s"  # ten thousand lookups on a shared 2-core box, in the long run
    foreign = budget.scaled(200, 10_000)
    healthy(world)
    create_many(world.vault, foreign, policies=["default"], display_name="ci-job", ttl="1h")
    create_many(world.vault, 5, policies=["renewer-test-admin"], display_name=world.display)
    clobber = world.admin_clobber()
    world.write(clobber)
    started = time.monotonic()

    result = world.cli("run")

    assert result.code == 0, result.err
    healed = result.event("token.healed")
    assert healed["swept"] == 6, healed["summary"]  # five leftovers and the superseded one
    assert world.ours_alive() == [world.lookup(world.read())["accessor"]]  # type: ignore[index]
    assert world.lookup(clobber) is not None
    assert len(world.vault.require_dev().tokens(display_name="token-ci-job")) == foreign
    tally.record(
        "floor/large-vault-sweep", tries=foreign, note=f"{time.monotonic() - started:.1f}s"
    )


@pytest.mark.floor(17)
def test_more_accessors_than_the_limit_skip_the_scan_with_a_reason(private_world: World) -> None:
    """A Vault bigger than run.sweep_max_accessors: the heal stands, the scan says why not."""
    world = private_world
    healthy(world)
    create_many(world.vault, 60, policies=["default"], display_name="ci-job", ttl="1h")
    world.write(world.admin_clobber())
    config = world.write_config()
    config.write_text(config.read_text().replace("run:\n", "run:\n  sweep_max_accessors: 50\n"))
    world.capsys.readouterr()
    configure("json", environ={})
    results = run_once(load_config(config, environ={"HOME": str(world.home)}))
    err = world.capsys.readouterr().err
    leakguard.scan("run stderr", err)

    assert exit_code(results) == 0, err
    assert "exceed run.sweep_max_accessors (50)" in results[0].summary
    tally.record("floor/sweep-limit")


@pytest.mark.floor(17)
def test_accessors_vanishing_mid_sweep_are_skipped_not_errors(private_world: World) -> None:
    """Leftovers revoked by someone else while the full scan looks them up (400s)."""
    world = private_world
    controls = world.vault.require_dev()
    healthy(world)
    leftovers = create_many(
        world.vault, 20, policies=["renewer-test-admin"], display_name=world.display
    )
    world.write(world.admin_clobber())
    controls.add_fault(kind="latency", path="auth/token/lookup-accessor", delay=0.05)
    revoked = threading.Event()

    def someone_else() -> None:
        while controls.counters().get(ACCESSORS, 0) < 1:
            time.sleep(0.005)
        for accessor in leftovers:
            world.vault.request("POST", "auth/token/revoke-accessor", json={"accessor": accessor})
        revoked.set()

    racer = threading.Thread(target=someone_else)
    racer.start()
    result = world.cli("run")
    racer.join(timeout=30)

    assert revoked.is_set()
    assert result.code == 0, result.err
    assert "Traceback" not in result.err and result.event("token.healed")
    assert world.ours_alive() == [world.lookup(world.read())["accessor"]]  # type: ignore[index]
    tally.record("floor/accessors-vanish-mid-sweep")


@pytest.mark.floor(10, 17)
def test_a_rate_limit_in_the_middle_of_a_sweep_is_waited_out(world: World) -> None:
    controls = world.vault.require_dev()
    healthy(world)
    for _ in range(3):
        world.mint_ours()
    world.write(world.admin_clobber())
    controls.add_fault(
        kind="ratelimit", path="auth/token/lookup-accessor", retry_after=2, skip=2, count=2
    )

    ran = run_virtual(world)

    assert ran.code == 0, ran.err
    assert sum(1 for wait in ran.clock.slept if wait >= 2.0) >= 1, ran.clock.slept
    assert ran.named("token.healed")
    assert len(world.ours_alive()) == 1
    tally.record("floor/sweep-rate-limited")


# --- 18 ------------------------------------------------------------------------------


@pytest.mark.floor(18)
def test_the_environment_cannot_redirect_renewer_or_lend_it_a_token(world: World) -> None:
    """VAULT_TOKEN (root!), VAULT_ADDR, proxies, a CA bundle: explicit config wins."""
    token = healthy(world)
    env = {
        "VAULT_TOKEN": world.vault.root_token,
        "VAULT_ADDR": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "ALL_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem",
        "CURL_CA_BUNDLE": "/nonexistent/ca.pem",
    }
    leakguard.remember(world.vault.root_token)

    run = world.cli("run", env=env)
    check = world.cli("check", env=env)

    assert run.code == 0, run.err
    renewed = run.event("token.renewed")
    assert renewed["display_name"] == world.ours, "a token from the environment was used"
    assert world.read() == token
    assert f"{world.vault.addr} (from config)" in check.err + check.out
    tally.record("floor/environment-pitfalls")


# --- 19 ------------------------------------------------------------------------------


@pytest.mark.floor(19)
@pytest.mark.parametrize("skew", [-3600, 3600], ids=["an-hour-behind", "an-hour-ahead"])
def test_a_skewed_wall_clock_changes_no_decision(world: World, skew: int) -> None:
    """The same renewal with the local clock off by an hour: renewed, by Vault's ttl."""
    token = healthy(world)
    configure("json", environ={})
    results = run_once(world.config(), runtime=Runtime(wall_clock=lambda: time.time() + skew))
    (result,) = results
    assert (result.event, result.details["ttl"]) == ("token.renewed", 2_764_800)
    assert world.read() == token
    tally.record("floor/clock-skew")


@pytest.mark.floor(19)
def test_a_vm_resumed_after_a_long_sleep_renews_on_vaults_ttl(private_world: World) -> None:
    """Thirty of the period's 32 days slept away: the token is still alive, and renewed.
    (A server of its own: its clock jumps two months, which must not age other tests;
    on OpenBao, the one test of the suite that skips: days cannot pass for real.)"""
    world = private_world
    world.vault.require_clock()  # thirty days cannot pass on a real server in a test
    token = healthy(world)
    world.vault.advance(30 * 86400)
    left = world.lookup(token)
    assert left is not None and left["ttl"] < 3 * 86400

    result = world.cli("run")

    assert result.code == 0, result.err
    assert result.event("token.renewed")["ttl"] == 2_764_800
    after = world.lookup(token)
    assert after is not None and after["ttl"] > 31 * 86400
    world.vault.advance(33 * 86400)  # slept past the period: dead, and said so
    assert world.cli("run").code == 1
    tally.record("floor/suspend-resume")


# --- the map -------------------------------------------------------------------------

TITLES = {
    1: "Token file missing",
    2: "Empty, whitespace-only, CRLF or BOM content",
    3: "Garbage or oversized content",
    4: "Permissions and ownership",
    5: "ENOSPC, EROFS or EACCES in the directory",
    6: "SIGKILL at every step",
    7: "Simulated power loss",
    8: "Two concurrent runs",
    9: "Vault unreachable",
    10: "503, 500, or 429 with Retry-After",
    11: "403 on renew-self or on LIST accessors",
    12: "renew-self 200 without TTL growth, or capped",
    13: "Token already expired or revoked",
    14: "Malformed 200 responses",
    15: "New orphan token fails verification",
    16: "Crash between create-orphan and the file write",
    17: "Sweep races and scale",
    18: "Environment pitfalls",
    19: "Clock skew or a suspended VM",
    20: "Multi-file credentials; journald absent",
}
_MARK = re.compile(r"floor\(([\d,\s]+)\)")


def floor_marks_in_sources() -> dict[int, list[str]]:
    """Floor case → the test functions marked with it, found by reading every test file."""
    found: dict[int, list[str]] = {case: [] for case in TITLES}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.ClassDef):
                continue
            for decorator in node.decorator_list:
                match = _MARK.search(ast.unparse(decorator))
                if match and "mark.floor" in ast.unparse(decorator):
                    for case in (int(c) for c in match.group(1).split(",") if c.strip()):
                        found[case].append(f"{path.relative_to(ROOT)}::{node.name}")
    return found


def test_every_floor_case_is_claimed_by_a_test() -> None:
    """The twenty cases of §5, each marked on at least one test (docs/reliability.md)."""
    found = floor_marks_in_sources()
    missing = [f"{case}. {TITLES[case]}" for case, tests in found.items() if not tests]
    assert not missing, f"floor cases without a test: {missing}"
    assert set(found) == set(range(1, 21))
