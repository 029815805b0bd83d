"""AppRole calls (``auth/<mount>/...``): what the secret-id rotation needs."""

from __future__ import annotations

import json

import hvac.exceptions
import requests

from renewer.core.approle import SecretIdGrant, SecretIdInfo
from renewer.core.model import AuthGrant, MalformedResponse
from renewer.core.secret import Secret
from renewer.redact import register
from renewer.vault.errors import unknown_secret_id_accessor
from renewer.vault.transport import BoundCalls, json_data, json_object


class AppRoleCalls(BoundCalls):
    """``auth/<mount>/role/<role>/...`` with the bound token."""

    def approle_role_id(self, mount: str, role: str) -> str:
        """``GET auth/<mount>/role/<role>/role-id``."""

        def read() -> str:
            response = self._client.adapter.get(f"/v1/auth/{mount}/role/{role}/role-id")
            role_id = (json_data(response, "read role-id") or {}).get("role_id")
            if not isinstance(role_id, str) or not role_id:
                raise MalformedResponse("no role_id")
            return role_id

        return self._call("read role-id", read)

    def approle_generate_secret_id(
        self, mount: str, role: str, *, metadata: dict[str, str]
    ) -> SecretIdGrant:
        """``POST auth/<mount>/role/<role>/secret-id``; never retried once it may have worked."""
        body = {"metadata": json.dumps(metadata, sort_keys=True)}

        def generate() -> SecretIdGrant:
            response = self._client.adapter.post(
                f"/v1/auth/{mount}/role/{role}/secret-id", json=body
            )
            return SecretIdGrant.from_data(json_data(response, "generate secret-id"))

        grant = self._call("generate secret-id", generate, idempotent=False)
        register(grant.secret_id.reveal())
        return grant

    def approle_lookup_secret_id(
        self, mount: str, role: str, secret_id: Secret
    ) -> SecretIdInfo | None:
        """``POST .../secret-id/lookup``: the secret-id's accessor, or None if Vault has none."""

        def lookup() -> SecretIdInfo | None:
            response = self._client.adapter.post(
                f"/v1/auth/{mount}/role/{role}/secret-id/lookup",
                json={"secret_id": secret_id.reveal()},
            )
            if isinstance(response, requests.Response) and response.status_code == 204:
                return None  # unknown, expired or destroyed
            return SecretIdInfo.from_data(json_data(response, "lookup secret-id"))

        return self._call("lookup secret-id", lookup)

    def approle_lookup_accessor(self, mount: str, role: str, accessor: str) -> SecretIdInfo | None:
        """``POST .../secret-id-accessor/lookup``; None when the accessor is unknown."""

        def lookup() -> SecretIdInfo | None:
            try:
                response = self._client.adapter.post(
                    f"/v1/auth/{mount}/role/{role}/secret-id-accessor/lookup",
                    json={"secret_id_accessor": accessor},
                )
            except hvac.exceptions.VaultError as exc:
                if unknown_secret_id_accessor(exc):
                    return None
                raise
            if isinstance(response, requests.Response) and response.status_code == 204:
                return None
            return SecretIdInfo.from_data(json_data(response, "lookup secret-id accessor"))

        return self._call("lookup secret-id accessor", lookup)

    def approle_destroy_accessor(self, mount: str, role: str, accessor: str) -> bool:
        """``POST .../secret-id-accessor/destroy``; False when it was already gone.

        Vault answers an unknown accessor with a 500 (a plain Go error in the
        handler; 404 on some versions), so that one answer is recognised here,
        before the retry loop would take it for an outage.
        """

        def destroy() -> bool:
            try:
                self._client.adapter.post(
                    f"/v1/auth/{mount}/role/{role}/secret-id-accessor/destroy",
                    json={"secret_id_accessor": accessor},
                )
            except hvac.exceptions.VaultError as exc:
                if unknown_secret_id_accessor(exc):
                    return False
                raise
            return True

        return self._connection.call("destroy secret-id", destroy)

    def approle_list_accessors(self, mount: str, role: str) -> list[str]:
        """``LIST .../secret-id``: accessors of the role's live secret-ids."""

        path = f"/v1/auth/{mount}/role/{role}/secret-id"
        return self._list_keys("list secret-ids", lambda: self._client.adapter.list(path))

    def approle_login(self, mount: str, role_id: str, secret_id: Secret) -> AuthGrant:
        """``POST auth/<mount>/login`` (unauthenticated); the token is registered as a secret."""

        def login() -> AuthGrant:
            response = self._client.adapter.post(
                f"/v1/auth/{mount}/login",
                json={"role_id": role_id, "secret_id": secret_id.reveal()},
            )
            return AuthGrant.from_response(json_object(response, "approle login"))

        grant = self._call("approle login", login, idempotent=False)
        register(grant.client_token.reveal())
        return grant
