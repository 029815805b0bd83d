"""Conformance: transport rules every endpoint shares (reference §1, §11 items 1-4, 10, 46)."""

from __future__ import annotations

import hvac.exceptions
import pytest

from renewer.devserver.protocol import multierror
from tests.devserver.differences import JSON_DECODE_ERROR_PREFIXES
from tests.devserver.helpers import lookup, make_token
from tests.vaultpeer import VaultPeer

ENVELOPE_KEYS = {
    "request_id",
    "lease_id",
    "renewable",
    "lease_duration",
    "data",
    "wrap_info",
    "warnings",
    "auth",
}


class TestTransport:
    def test_json_responses_carry_exactly_application_json(self, vault: VaultPeer) -> None:
        """§11.1: success, error and health bodies are ``application/json``, no charset."""
        responses = [
            vault.request("GET", "auth/token/lookup-self"),
            vault.request("GET", "auth/token/lookup-self", token="hvs.nosuchtoken000000000000"),
            vault.request("POST", "auth/token/lookup-accessor", json={}),
            vault.request("GET", "sys/health", token=""),
        ]
        assert [r.headers["Content-Type"] for r in responses] == ["application/json"] * 4

    def test_every_response_has_cache_control_no_store(self, vault: VaultPeer) -> None:
        """§11.2: 200, 204, 400, 403 and 404 all say ``Cache-Control: no-store``."""
        token = make_token(vault, policies=["default"])
        responses = [
            vault.request("GET", "auth/token/lookup-self"),
            vault.request("POST", "auth/token/revoke", json={"token": token}),
            vault.request("POST", "auth/token/lookup-accessor", json={}),
            vault.request("GET", "auth/token/lookup-self", token="hvs.nosuchtoken000000000000"),
            vault.request("GET", "secret/data/does-not-exist-anywhere"),
        ]
        assert [r.status_code for r in responses] == [200, 204, 400, 403, 404]
        assert all(r.headers.get("Cache-Control") == "no-store" for r in responses)

    def test_errors_are_a_list_of_strings(self, vault: VaultPeer) -> None:
        """§11.3: an error body is exactly ``{"errors": [<string>]}``."""
        response = vault.request("POST", "auth/token/lookup-accessor", json={})

        assert response.status_code == 400
        assert response.json() == {"errors": [multierror("missing accessor")]}

    def test_success_envelope_has_every_key(self, vault: VaultPeer) -> None:
        """§11.4: the envelope keys are all present with their neutral values."""
        body = vault.request("GET", "auth/token/lookup-self").json()

        assert set(body) >= ENVELOPE_KEYS
        assert body["lease_id"] == ""
        assert body["renewable"] is False
        assert body["lease_duration"] == 0
        assert body["wrap_info"] is None
        assert body["warnings"] is None
        assert body["auth"] is None
        assert isinstance(body["data"], dict)

    def test_bearer_authorization_works_like_x_vault_token(self, vault: VaultPeer) -> None:
        """§11.10: ``Authorization: Bearer <t>`` authenticates the same token."""
        token = make_token(vault, policies=["default"])

        response = vault.request(
            "GET", "auth/token/lookup-self", token="", headers={"Authorization": f"Bearer {token}"}
        )

        assert response.status_code == 200
        assert response.json()["data"]["id"] == token

    def test_unsupported_http_method_is_405_with_empty_errors(self, vault: VaultPeer) -> None:
        """§11.46: a method Vault does not map to an operation → 405 ``{"errors":[]}``."""
        response = vault.request("TRACE", "auth/token/lookup-self")

        assert response.status_code == 405
        assert response.json() == {"errors": []}

    def test_malformed_json_body_is_400_error_parsing_json(self, vault: VaultPeer) -> None:
        """§11.46: an unparseable body → 400 ``error parsing JSON``."""
        response = vault.request(
            "POST",
            "auth/token/create",
            data=b'{"policies": [',
            headers={"Content-Type": "application/json"},
        )

        assert response.status_code == 400
        assert response.json()["errors"][0].startswith(JSON_DECODE_ERROR_PREFIXES)

    def test_unknown_mount_is_404_no_handler(self, vault: VaultPeer) -> None:
        """An unmounted path → 404 ``no handler for route``."""
        response = vault.request("GET", "nosuchmount/thing")

        assert response.status_code == 404
        if vault.is_dev:
            assert response.json() == {
                "errors": ['no handler for route "nosuchmount/thing". route entry not found.']
            }

    def test_unknown_path_in_a_mount_is_404_and_wrong_operation_405(self, vault: VaultPeer) -> None:
        """Unknown token-store path → 404; GET on a POST-only path → 405."""
        assert vault.request("GET", "auth/token/no-such-endpoint").status_code == 404
        assert vault.request("GET", "auth/token/create").status_code == 405

    def test_anonymous_probe_of_unknown_path_is_403(self, vault: VaultPeer) -> None:
        """The token check comes before routing: no token → 403, even for nonsense."""
        response = vault.request("GET", "auth/token/no-such-endpoint", token="")

        assert response.status_code == 403

    def test_non_boolean_list_parameter_is_400(self, vault: VaultPeer) -> None:
        """``?list=maybe`` is not a Go bool → 400."""
        response = vault.request("GET", "auth/token/accessors", params={"list": "maybe"})

        assert response.status_code == 400

    def test_hvac_error_carries_vault_errors(self, vault: VaultPeer) -> None:
        """hvac parses ``errors`` (it needs the exact content type to do so)."""
        with pytest.raises(hvac.exceptions.InvalidRequest) as info:
            vault.client().auth.token.lookup_accessor("")

        assert info.value.errors == [multierror("missing accessor")]

    def test_json_numbers_and_strings_are_both_durations(self, vault: VaultPeer) -> None:
        """``ttl`` as a number of seconds, as ``"90"`` and as ``"1m30s"`` all mean 90 s."""
        for ttl in (90, "90", "1m30s"):
            token = make_token(vault, policies=["default"], ttl=ttl)
            assert lookup(vault, token)["creation_ttl"] == 90
