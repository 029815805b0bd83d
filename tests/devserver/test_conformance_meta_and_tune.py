"""Conformance: token ``meta`` and the token mount's max TTL, as renewer depends on them.

renewer's owner marks live in token ``meta`` (issue 15, item 2), and its
capped-renewal messages tell a mount cap from an explicit max (item 6). Both
run against the session's peer: the dev server, or OpenBao/Vault, whose
answers these tests pin (checked against OpenBao 2.7.2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.devserver.helpers import lookup
from tests.vaultpeer import VaultPeer, unique

MARKS = {"renewer_machine": "0123456789abcdef", "renewer_sink": "devvm"}
PERIOD_CAPPED = re.compile(
    r'^period of "768h(0m0s)?" exceeded the effective max_ttl of "24h(0m0s)?"; '
    r"period value is capped accordingly$"
)


def _create(vault: VaultPeer, **body: object) -> dict[str, object]:
    response = vault.request("POST", "auth/token/create-orphan", json=body)
    assert response.status_code == 200, response.text
    reply: dict[str, object] = response.json()
    return reply


class TestMeta:
    def test_meta_is_stored_and_returned_by_every_lookup(self, vault: VaultPeer) -> None:
        """create → ``auth.metadata``; lookup-self and lookup-accessor → ``data.meta``."""
        reply = _create(vault, policies=["default"], period="768h", meta=MARKS)
        auth = reply["auth"]
        assert isinstance(auth, dict)
        assert auth["metadata"] == MARKS
        token, accessor = str(auth["client_token"]), str(auth["accessor"])
        assert lookup(vault, token)["meta"] == MARKS
        by_accessor = vault.request(
            "POST", "auth/token/lookup-accessor", json={"accessor": accessor}
        )
        assert by_accessor.json()["data"]["meta"] == MARKS

    def test_no_meta_is_null(self, vault: VaultPeer) -> None:
        """A token made without meta (a manual stray) reads back ``null``, not ``{}``."""
        reply = _create(vault, policies=["default"], display_name=unique("stray"))
        auth = reply["auth"]
        assert isinstance(auth, dict)
        assert auth["metadata"] is None
        assert lookup(vault, str(auth["client_token"]))["meta"] is None


@pytest.fixture
def mount_capped_at_24h(vault: VaultPeer) -> Iterator[None]:
    """`vault auth tune -max-lease-ttl=24h token/`, undone afterwards (the server is shared)."""
    response = vault.request("POST", "sys/auth/token/tune", json={"max_lease_ttl": "24h"})
    assert response.status_code == 204, response.text
    try:
        yield
    finally:
        vault.request("POST", "sys/auth/token/tune", json={"max_lease_ttl": "0"})


class TestTokenMountMaxTTL:
    def test_tune_is_read_back(self, vault: VaultPeer, mount_capped_at_24h: None) -> None:
        tune = vault.request("GET", "sys/auth/token/tune").json()
        assert tune["data"]["max_lease_ttl"] == 86400

    def test_a_period_is_capped_at_create_and_at_every_renewal(
        self, vault: VaultPeer, mount_capped_at_24h: None
    ) -> None:
        """The grant is 24h with the period-capped warning; lookup still reports the period;
        each renewal grants 24h again (it extends the token, it does not end it)."""
        reply = _create(vault, policies=["default"], period="768h")
        auth = reply["auth"]
        assert isinstance(auth, dict)
        assert auth["lease_duration"] == 86400
        warnings = reply["warnings"]
        assert isinstance(warnings, list) and PERIOD_CAPPED.match(warnings[0]), warnings
        token = str(auth["client_token"])
        data = lookup(vault, token)
        assert (data["period"], data["creation_ttl"]) == (2_764_800, 86400)
        renewed = vault.request("POST", "auth/token/renew-self", token=token, json={}).json()
        assert renewed["auth"]["lease_duration"] == 86400
        assert PERIOD_CAPPED.match(renewed["warnings"][0]), renewed["warnings"]

    def test_back_to_the_system_max(self, vault: VaultPeer) -> None:
        """`max_lease_ttl: 0` restores the default: a 768h period is granted in full."""
        vault.request("POST", "sys/auth/token/tune", json={"max_lease_ttl": "24h"})
        vault.request("POST", "sys/auth/token/tune", json={"max_lease_ttl": "0"})
        reply = _create(vault, policies=["default"], period="768h")
        auth = reply["auth"]
        assert isinstance(auth, dict)
        assert auth["lease_duration"] == 2_764_800
