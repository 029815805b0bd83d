"""Hostile server answers: renewer against a scripted Vault impostor (tests/peers/hostile_vault.py).

Wrong types, missing fields, an empty ``client_token``, ``lease_duration``
as a string, HTML, non-objects, a 50 MB body (with and without a length),
a gzip bomb, a slow-loris body, redirects to another host. Every one: exit
75 or 1 as fits, one clear line, no traceback, the token file byte-identical,
nothing minted into it, no body read past the size cap or the run deadline,
and a redirect never followed (the other host receives nothing, so never the
token).
"""

from __future__ import annotations

import contextlib
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renewer.config import VaultSettings
from renewer.core.approle import SecretIdGrant, SecretIdInfo
from renewer.core.certs import IssuedCertificate
from renewer.core.model import AuthGrant, MalformedResponse, TokenInfo
from renewer.core.secret import Secret
from renewer.vault import RetryPolicy, VaultConnection
from tests.integration.conftest import World
from tests.peers.hostile_vault import HostileVault
from tests.reliability import budget, tally
from tests.reliability.faults import Ran, run_virtual

LOOKUP = "auth/token/lookup-self"
RENEW = "auth/token/renew-self"
MINT = "auth/token/create-orphan"
TOKEN = "hvs.CAESIhostileimpostortesttoken000000"
MB = 1024 * 1024


def ours(world: World, **overrides: Any) -> dict[str, Any]:
    """A lookup-self answer that passes the drift guard."""
    data = {
        "accessor": "acc-hostile",
        "display_name": world.ours,
        "policies": ["default", "renewer-test-admin"],
        "ttl": 3600,
        "period": 2764800,
        "creation_ttl": 2764800,
        "orphan": True,
        "renewable": True,
        "id": TOKEN,
    }
    data.update(overrides)
    return {"data": data}


def against(world: World, impostor: HostileVault) -> World:
    world.addr = impostor.url
    world.deadline = "4s"
    world.read_timeout = "1s"
    world.sink.write_text(TOKEN)
    world.sink.chmod(0o600)
    return world


def assert_refused_cleanly(
    world: World, ran: Ran, *, codes: frozenset[int] = frozenset({75})
) -> None:
    assert ran.code in codes, ran.err
    assert "Traceback" not in ran.err
    assert len(ran.errors()) == 1, ran.err
    assert world.sink.read_text() == TOKEN, "the token file changed"


LOOKUP_ANSWERS: dict[str, Any] = {
    "data-is-a-list": {"data": []},
    "data-is-a-string": {"data": "root"},
    "data-is-null": {"data": None},
    "no-data": {"warnings": ["hello"]},
    "ttl-is-a-string": "ttl=forever",
    "policies-is-a-string": "policies=root",
    "display-name-is-a-number": "display_name=5",
    "top-level-list": [1, 2, 3],
    "ttl-nan": b'{"data": {"display_name": "x", "ttl": NaN}}',
    "ttl-infinity": b'{"data": {"display_name": "x", "ttl": Infinity}}',
    "ttl-negative": "ttl=-1",
    "top-level-string": "just text",
    "empty-object": {},
}


def _lookup_answer(world: World, name: str) -> Any:
    answer = LOOKUP_ANSWERS[name]
    if isinstance(answer, str) and "=" in answer:
        key, value = answer.split("=", 1)
        parsed: Any = {"forever": "forever", "root": "root", "5": 5, "None": None, "-1": -1}[value]
        return ours(world, **{key: parsed})
    return answer


@pytest.mark.floor(14)
@pytest.mark.parametrize("name", sorted(LOOKUP_ANSWERS))
def test_a_malformed_lookup_is_refused_and_writes_nothing(
    world: World, impostor: HostileVault, name: str
) -> None:
    """Wrong types or missing fields in lookup-self: 75 (or 1), one line, file unchanged."""
    against(world, impostor)
    impostor.answer(LOOKUP, _lookup_answer(world, name))

    ran = run_virtual(world)

    assert_refused_cleanly(world, ran)
    assert not impostor.sent_to(MINT)
    tally.record(f"hostile-answer/lookup-self/{name}")


RENEW_ANSWERS: dict[str, Any] = {
    "auth-null": {"auth": None},
    "lease-duration-a-string": {"auth": {"lease_duration": "768h", "client_token": TOKEN}},
    "lease-duration-negative": {"auth": {"lease_duration": -5, "client_token": TOKEN}},
    "lease-duration-nan": b'{"auth": {"lease_duration": NaN, "client_token": "x"}}',
    "auth-a-list": {"auth": [1]},
    "warnings-a-number": {"auth": {"lease_duration": 60}, "warnings": 7},
}


@pytest.mark.floor(14)
@pytest.mark.parametrize("name", sorted(RENEW_ANSWERS))
def test_a_malformed_renewal_is_temporary_and_writes_nothing(
    world: World, impostor: HostileVault, name: str
) -> None:
    against(world, impostor)
    impostor.answer(LOOKUP, ours(world))
    impostor.answer(RENEW, RENEW_ANSWERS[name])

    ran = run_virtual(world)

    assert_refused_cleanly(world, ran)
    tally.record(f"hostile-answer/renew-self/{name}")


MINT_ANSWERS: dict[str, Any] = {
    "empty-client-token": {"auth": {"client_token": "", "accessor": "a1", "lease_duration": 60}},
    "client-token-a-number": {"auth": {"client_token": 5, "accessor": "a1"}},
    "no-accessor": {"auth": {"client_token": "hvs.minted0000000000000000"}},
    "auth-null": {"auth": None, "data": None},
    "html": b"<html>proxy error</html>",
}


@pytest.mark.floor(14)
@pytest.mark.parametrize("name", sorted(MINT_ANSWERS))
def test_a_malformed_mint_is_never_written_to_the_file(
    world: World, impostor: HostileVault, name: str
) -> None:
    """A clobbered sink, create-orphan answers garbage: nothing written, not repeated."""
    against(world, impostor)
    impostor.answer(LOOKUP, ours(world, display_name="token-oidc-alice"))
    headers = {"Content-Type": "text/html"} if name == "html" else None
    impostor.answer(MINT, MINT_ANSWERS[name], headers=headers)

    ran = run_virtual(world)

    assert_refused_cleanly(world, ran)
    assert len(impostor.sent_to(MINT)) == 1, "a mint that may have happened was repeated"
    tally.record(f"hostile-answer/create-orphan/{name}")


@pytest.mark.floor(3, 14)
@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
def test_a_50_mb_answer_is_not_read_in_full(
    world: World, impostor: HostileVault, length: bool
) -> None:
    """The client stops at its size cap (or refuses a declared length), then gives up: 75."""
    against(world, impostor)
    impostor.answer(LOOKUP, size=50 * MB, content_length=length)
    started = time.monotonic()

    ran = run_virtual(world)

    assert_refused_cleanly(world, ran)
    assert "larger than" in ran.errors()[0]["summary"]
    sent = max(seen.sent for seen in impostor.sent_to(LOOKUP))
    assert sent < 40 * MB, f"the client read {sent / MB:.0f} MB of a 50 MB answer"
    assert time.monotonic() - started < 15
    tally.record(f"hostile-answer/huge-body/{'length' if length else 'chunked'}")


@pytest.mark.floor(14)
def test_a_gzip_bomb_is_not_inflated(world: World, impostor: HostileVault) -> None:
    """64 MB of zeros in 64 KB of gzip: refused as encoded, never decompressed into memory."""
    against(world, impostor)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * MB
    bomb = b"".join(squeeze.compress(zeros) for _ in range(64)) + squeeze.flush()
    impostor.answer(LOOKUP, bomb, headers={"Content-Encoding": "gzip"})

    ran = run_virtual(world)

    assert_refused_cleanly(world, ran)
    assert "gzip-encoded" in ran.errors()[0]["summary"]
    tally.record("hostile-answer/gzip-bomb")


@pytest.mark.floor(9)
def test_a_slow_loris_body_is_cut_off_at_the_deadline(world: World, impostor: HostileVault) -> None:
    """One byte every 0.3 s never trips a 1 s read timeout; the run deadline still holds."""
    against(world, impostor)
    world.deadline = "2s"
    impostor.answer(LOOKUP, trickle=0.3)
    started = time.monotonic()

    ran = run_virtual(world)

    elapsed = time.monotonic() - started
    assert_refused_cleanly(world, ran)
    assert elapsed < 2 + 1 + 1.5, f"took {elapsed:.1f}s with a 2 s deadline"
    tally.record("hostile-answer/slow-loris")


@pytest.mark.floor(14, 18)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_is_not_followed(
    world: World, impostor: HostileVault, other_host: HostileVault, status: int
) -> None:
    """The token is never sent to the host a redirect names; 75 with the reason."""
    against(world, impostor)
    impostor.answer(
        LOOKUP, b"", status=status, headers={"Location": f"{other_host.url}/v1/{LOOKUP}"}
    )

    ran = run_virtual(world)

    assert_refused_cleanly(world, ran)
    assert "redirect" in ran.errors()[0]["summary"]
    assert other_host.seen == [], "a request reached the other host"
    tally.record(f"hostile-answer/redirect-{status}")


@pytest.mark.floor(14)
def test_an_html_page_with_a_200_is_temporary(world: World, impostor: HostileVault) -> None:
    against(world, impostor)
    impostor.answer(LOOKUP, b"<html>login portal</html>", headers={"Content-Type": "text/html"})

    ran = run_virtual(world)

    assert_refused_cleanly(world, ran)
    tally.record("hostile-answer/html-200")


LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.sampled_from([float("nan"), float("inf"), -1, 2**64, "", "hvs.x", "768h"])
    | st.text(max_size=8)
)
json_values = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children)
    ),
    max_leaves=6,
)
VALID: dict[str, Callable[[Any], object]] = {
    "lookup": TokenInfo.from_lookup,
    "auth": AuthGrant.from_response,
    "secret-id": SecretIdGrant.from_data,
    "secret-id-lookup": SecretIdInfo.from_data,
    "certificate": IssuedCertificate.from_data,
}
BASES: dict[str, dict[str, Any]] = {
    "lookup": {
        "accessor": "a", "display_name": "token-x", "policies": ["default"], "ttl": 60,
        "period": 60, "creation_ttl": 60, "explicit_max_ttl": 0, "orphan": True,
        "renewable": True, "type": "service", "identity_policies": [], "expire_time": None,
        "creation_time": 1, "path": "auth/token/create", "num_uses": 0,
    },
    "auth": {
        "auth": {
            "client_token": "hvs.x", "accessor": "a", "policies": ["default"],
            "lease_duration": 60, "renewable": True, "orphan": True,
        },
        "warnings": [],
    },
    "secret-id": {
        "secret_id": "s", "secret_id_accessor": "a", "secret_id_ttl": 60,
        "secret_id_num_uses": 0,
    },
    "secret-id-lookup": {
        "secret_id_accessor": "a", "metadata": {"k": "v"}, "secret_id_ttl": 60,
        "secret_id_num_uses": 0, "expiration_time": "",
    },
    "certificate": {
        "certificate": "c", "private_key": "k", "serial_number": "1", "ca_chain": ["ca"],
        "expiration": 2, "private_key_type": "ec",
    },
}  # fmt: skip


@st.composite
def hostile_answers(draw: st.DrawFn) -> tuple[str, Any]:
    """A valid answer of one kind with up to three fields replaced, removed or nested wrong."""
    kind = draw(st.sampled_from(sorted(BASES)))
    answer = json.loads(json.dumps(BASES[kind]))
    target = answer["auth"] if kind == "auth" and draw(st.booleans()) else answer
    for key in draw(st.lists(st.sampled_from(sorted(target)), min_size=1, max_size=3)):
        if draw(st.booleans()):
            target[key] = draw(json_values)
        else:
            target.pop(key, None)
    return kind, draw(st.sampled_from([answer, answer, draw(json_values)]))


@pytest.mark.floor(14)
@settings(max_examples=budget.scaled(200, 3000), deadline=None)
@given(case=hostile_answers())
def test_any_json_answer_parses_or_is_malformed_never_anything_else(
    case: tuple[str, Any],
) -> None:
    """Every parser of Vault answers: a value, or MalformedResponse (75); no other exception."""
    kind, answer = case
    with contextlib.suppress(MalformedResponse):
        VALID[kind](answer)
    tally.record("fuzz/vault-answer-parsers")


@pytest.mark.floor(3, 14)
@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
def test_the_full_scans_fast_path_caps_answers_too(impostor: HostileVault, length: bool) -> None:
    """lookup-accessor goes through a kept-alive http.client connection, not requests: same cap."""
    impostor.answer("auth/token/lookup-accessor", size=50 * MB, content_length=length)
    where = VaultSettings(addr=impostor.url, addr_source="config", ca_cert=None)
    token = Secret(TOKEN)

    with (
        VaultConnection(where, RetryPolicy.starting_now(5)) as connection,
        pytest.raises(MalformedResponse, match="larger than"),
    ):
        connection.keepalive.post("auth/token/lookup-accessor", {"accessor": "a"}, token)

    sent = max(seen.sent for seen in impostor.sent_to("auth/token/lookup-accessor"))
    assert sent < 40 * MB, f"the client read {sent / MB:.0f} MB of a 50 MB answer"
    tally.record(f"hostile-answer/huge-body/fast-path/{'length' if length else 'chunked'}")
