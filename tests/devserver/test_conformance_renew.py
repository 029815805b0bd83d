"""Conformance: lease time and renewal (reference §2.3, §4; §11 items 24-32)."""

from __future__ import annotations

import re
from datetime import datetime

import hvac.exceptions
import pytest

from tests.devserver.helpers import create_reply, errors, lookup, make_token
from tests.vaultpeer import VaultPeer

CAPPED = re.compile(
    r'^TTL of "[0-9hms]+" exceeded the effective max_ttl of "[0-9hms]+"; '
    r"TTL value is capped accordingly$"
)


class TestLeaseTimes:
    def test_lookup_times_have_vaults_formats(self, vault: VaultPeer) -> None:
        """§11.24: ``creation_time`` unix int, ``expire_time`` RFC3339, ``ttl`` whole seconds."""
        token = make_token(vault, policies=["default"], ttl="1h")

        data = lookup(vault, token)

        assert isinstance(data["creation_time"], int)
        assert isinstance(data["ttl"], int)
        assert 3590 <= data["ttl"] <= 3600
        expire = datetime.fromisoformat(data["expire_time"].replace("Z", "+00:00"))
        assert abs(expire.timestamp() - data["creation_time"] - 3600) < 2

    def test_lookup_ttl_counts_down_in_whole_seconds(self, vault: VaultPeer) -> None:
        """§11.24: 3 s later the TTL is 3 s lower (whole seconds); ``creation_ttl`` unchanged."""
        token = make_token(vault, policies=["default"], ttl="1h")
        before = lookup(vault, token)["ttl"]

        vault.elapse(3)
        after = lookup(vault, token)

        assert 3 <= before - after["ttl"] <= 4 + vault.slack
        assert after["creation_ttl"] == 3600


class TestRenew:
    def test_renew_self_increment_counts_from_now(self, vault: VaultPeer) -> None:
        """§11.25: ``increment: 2h`` → lease 7200, the token as ``client_token``."""
        token = make_token(vault, policies=["default"], ttl="1h")

        reply = vault.client(token).auth.token.renew_self(increment="2h")

        assert reply["auth"]["lease_duration"] == 7200
        assert reply["auth"]["client_token"] == token
        assert reply["data"] is None
        assert 7190 <= lookup(vault, token)["ttl"] <= 7200

    def test_renew_self_without_increment_regrants_last_ttl(self, vault: VaultPeer) -> None:
        """§11.26: no increment re-grants the TTL last granted, not the mount default."""
        token = make_token(vault, policies=["default"], ttl="1h")
        client = vault.client(token)
        client.auth.token.renew_self(increment="2h")

        reply = client.auth.token.renew_self()

        assert reply["auth"]["lease_duration"] == 7200

    def test_renewal_past_max_is_capped_with_warning(self, vault: VaultPeer) -> None:
        """§11.27: asking beyond creation + max → shorter lease and the capping warning."""
        token = make_token(vault, policies=["default"], ttl="10m", explicit_max_ttl="1h")

        reply = vault.client(token).auth.token.renew_self(increment="2h")

        assert 3590 <= reply["auth"]["lease_duration"] <= 3600
        assert len(reply["warnings"]) == 1
        assert CAPPED.match(reply["warnings"][0])

    def test_renewal_cap_shrinks_as_time_passes(self, vault: VaultPeer) -> None:
        """§11.27: 6 s into a 12 s max, a 2h renewal gets the 6 s that are left."""
        token = make_token(vault, policies=["default"], ttl="10s", explicit_max_ttl="12s")
        vault.elapse(6)

        reply = vault.client(token).auth.token.renew_self(increment="2h")

        assert 6 - 1 - vault.slack <= reply["auth"]["lease_duration"] <= 6
        assert reply["warnings"][0].startswith('TTL of "2h" exceeded the effective max_ttl of "')
        assert CAPPED.match(reply["warnings"][0])

    def test_periodic_renewal_ignores_increment(self, vault: VaultPeer) -> None:
        """§11.28: a periodic token renews to its period; lookup shows ``period``."""
        token = make_token(vault, policies=["default"], period="1h")

        reply = vault.client(token).auth.token.renew_self(increment="5h")

        assert reply["auth"]["lease_duration"] == 3600
        assert lookup(vault, token)["period"] == 3600

    def test_explicit_max_ttl_caps_periodic_token(self, vault: VaultPeer) -> None:
        """§11.29: a period above the explicit max is capped with the period warning."""
        reply = create_reply(vault, policies=["default"], period="2h", explicit_max_ttl="1h")

        assert reply["auth"]["lease_duration"] == 3600
        assert reply["warnings"] == [
            'period of "2h" exceeded the effective max_ttl of "1h"; '
            "period value is capped accordingly"
        ]

    def test_explicit_max_ttl_caps_periodic_renewals_over_time(self, vault: VaultPeer) -> None:
        """§11.29: 6 s into a 12 s explicit max, an 8 s period renews to the 6 s left."""
        token = make_token(vault, policies=["default"], period="8s", explicit_max_ttl="12s")
        vault.elapse(3)
        assert vault.client(token).auth.token.renew_self()["auth"]["lease_duration"] == 8
        vault.elapse(3)

        reply = vault.client(token).auth.token.renew_self()

        assert 6 - 1 - vault.slack <= reply["auth"]["lease_duration"] <= 6
        assert CAPPED.match(reply["warnings"][0])

    def test_non_renewable_and_non_expiring_tokens_refuse_renewal(self, vault: VaultPeer) -> None:
        """§11.30: ``renewable: false`` and a TTL-0 root token → 400 ``lease is not renewable``."""
        fixed = make_token(vault, policies=["default"], renewable=False)
        forever = vault.request("POST", "auth/token/create", json={}).json()["auth"]

        for token in (fixed, forever["client_token"]):
            with pytest.raises(hvac.exceptions.InvalidRequest) as info:
                vault.client(token).auth.token.renew_self()
            assert errors(info.value) == ["lease is not renewable"]

    def test_renew_unknown_token_is_400_token_not_found(self, vault: VaultPeer) -> None:
        """§11.31: ``renew`` of an unknown token → 400 ``token not found``."""
        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            vault.client().auth.token.renew("hvs.thisTokenDoesNotExist00")

        assert errors(info.value) == ["token not found"]

    def test_renew_accessor_blanks_client_token(self, vault: VaultPeer) -> None:
        """§11.31: renew-accessor answers the auth block with ``client_token: ""``."""
        reply = create_reply(vault, policies=["default"], ttl="1h")

        renewed = vault.client().auth.token.renew_accessor(reply["auth"]["accessor"], "30m")

        assert renewed["auth"]["client_token"] == ""
        assert renewed["auth"]["accessor"] == reply["auth"]["accessor"]
        assert renewed["auth"]["lease_duration"] == 1800

    def test_renew_by_token_renews_that_token(self, vault: VaultPeer) -> None:
        """``renew`` with a token in the body renews that token, not the caller."""
        token = make_token(vault, policies=["default"], ttl="1h")

        reply = vault.client().auth.token.renew(token, increment="3h")

        assert reply["auth"]["client_token"] == token
        assert reply["auth"]["lease_duration"] == 10800

    def test_renewal_adds_last_renewal_and_keeps_creation_ttl(self, vault: VaultPeer) -> None:
        """§11.32: after renewing, lookup has ``last_renewal(_time)``; ``creation_ttl`` stays."""
        token = make_token(vault, policies=["default"], ttl="1h")
        assert "last_renewal_time" not in lookup(vault, token)

        vault.client(token).auth.token.renew_self(increment="2h")
        data = lookup(vault, token)

        assert isinstance(data["last_renewal_time"], int)
        assert datetime.fromisoformat(data["last_renewal"].replace("Z", "+00:00"))
        assert data["creation_ttl"] == 3600

    def test_renew_self_needs_only_the_default_policy(self, vault: VaultPeer) -> None:
        """The default policy grants renew-self: the renewer's whole premise."""
        token = make_token(vault, policies=["default"])

        reply = vault.client(token).auth.token.renew_self()

        assert reply["auth"]["renewable"] is True
