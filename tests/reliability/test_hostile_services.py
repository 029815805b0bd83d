"""Hostile service answers: a token endpoint or an API that floods, bombs or trickles.

The credential side of issue #8's hostile answers. Every answer of a token
endpoint, STS or a recipe's test target is read through the same bounded
adapter as Vault's (renewer/bounded_http.py), capped at 8 MiB: a flood or a
gzip bomb is refused as a credential error (nothing stored, the stored
refresh token intact), a body trickling in is cut off when the call's time is
over and becomes temporary (75). The impostor peer (tests/peers/hostile_vault.py)
plays the service.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import replace

import pytest

from renewer.errors import CredentialError, ServiceUnavailable
from renewer.primitives.http import RetryPolicy
from tests.peers.hostile_vault import HostileVault
from tests.reliability import tally
from tests.workspace import Workspace, oauth_recipe

Secrets = Callable[[str], str]
REF = "idp/main"
MB = 1024 * 1024


def hostile_idp(workspace: Workspace, impostor: HostileVault, make_secret: Secrets) -> str:
    """An OAuth credential whose token endpoint and API are the impostor; due for refresh."""
    workspace.recipe(
        "idp",
        oauth_recipe(
            "idp",
            base_url=f"{impostor.url}/v1/api",
            authorize_url=f"{impostor.url}/v1/authorize",
            token_url=f"{impostor.url}/v1/token",
        ),
    )
    workspace.credential("idp", "idp", REF)
    workspace.set_secret(REF, client_id="renewer-test", client_secret=make_secret("client"))
    refresh = make_secret("refresh-token")
    workspace.login_state(REF, make_secret("access-token"), refresh)
    workspace.clock.advance(3500)  # past two thirds of its life: due
    return refresh


def assert_nothing_stored(workspace: Workspace, refresh: str) -> None:
    stored = workspace.runtime(REF).refresh_token
    assert stored is not None
    assert stored.reveal() == refresh, "the stored refresh token was replaced or lost"


@pytest.mark.floor(3, 14)
@pytest.mark.parametrize("length", [True, False], ids=["content-length", "chunked"])
def test_a_50_mb_token_answer_is_refused_unread(
    workspace: Workspace,
    impostor: HostileVault,
    make_secret: Secrets,
    length: bool,
) -> None:
    """The token endpoint floods: a credential error naming the cap; nothing stored."""
    refresh = hostile_idp(workspace, impostor, make_secret)
    impostor.answer("token", size=50 * MB, content_length=length)

    with pytest.raises(CredentialError, match="larger than 8 MiB") as caught:
        workspace.open("idp").ensure_fresh()

    assert "127.0.0.1" in caught.value.message
    assert_nothing_stored(workspace, refresh)
    sent = max(seen.sent for seen in impostor.sent_to("token"))
    assert sent < 40 * MB, f"the client read {sent / MB:.0f} MB of a 50 MB answer"
    tally.record(f"hostile-answer/token-endpoint/huge-body/{'length' if length else 'chunked'}")


@pytest.mark.floor(14)
def test_a_gzip_bomb_from_the_token_endpoint_is_not_inflated(
    workspace: Workspace, impostor: HostileVault, make_secret: Secrets
) -> None:
    """64 MB of zeros in 64 KB of gzip, sent although renewer asked for identity."""
    refresh = hostile_idp(workspace, impostor, make_secret)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(squeeze.compress(b"\0" * MB) for _ in range(64)) + squeeze.flush()
    impostor.answer("token", bomb, headers={"Content-Encoding": "gzip"})

    with pytest.raises(CredentialError, match="gzip-encoded"):
        workspace.open("idp").ensure_fresh()

    assert_nothing_stored(workspace, refresh)
    tally.record("hostile-answer/token-endpoint/gzip-bomb")


@pytest.mark.floor(9)
def test_a_trickling_token_answer_is_cut_off_and_temporary(
    workspace: Workspace, impostor: HostileVault, make_secret: Secrets
) -> None:
    """One byte every 0.3 s never trips the 1 s read timeout; the call's own time still holds."""
    refresh = hostile_idp(workspace, impostor, make_secret)
    impostor.answer("token", trickle=0.3)
    quick = RetryPolicy(attempts=2, base=0.01, cap=0.05, deadline=1.5, timeout=1.0)
    started = time.monotonic()

    with pytest.raises(ServiceUnavailable, match="token request"):
        workspace.open("idp", http=replace(workspace.http(), policy=quick)).ensure_fresh()

    assert time.monotonic() - started < 10
    assert_nothing_stored(workspace, refresh)
    tally.record("hostile-answer/token-endpoint/slow-loris")


@pytest.mark.floor(14)
def test_a_flooding_test_endpoint_fails_the_check_not_the_machine(
    workspace: Workspace, impostor: HostileVault, make_secret: Secrets
) -> None:
    """The recipe's test target answers 50 MB: refused at the cap, named, nothing stored."""
    hostile_idp(workspace, impostor, make_secret)
    workspace.clock.advance(-3000)  # fresh again: only the test talks to the service
    impostor.answer("api/users/me", size=50 * MB)
    credential = workspace.open("idp")

    with pytest.raises(CredentialError, match="larger than 8 MiB"):
        credential.test(credential.state())

    sent = max(seen.sent for seen in impostor.sent_to("api/users/me"))
    assert sent < 40 * MB
    tally.record("hostile-answer/test-endpoint/huge-body")
