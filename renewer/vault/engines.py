"""Secrets-engine calls: KV v2 (the secret store) and PKI (the mtls primitive)."""

from __future__ import annotations

from typing import Any

from renewer.core.certs import IssuedCertificate
from renewer.core.model import MalformedResponse
from renewer.errors import VaultError
from renewer.redact import register
from renewer.secretstore.vault_kv import CasMismatch
from renewer.vault.transport import BoundCalls, json_data, json_object


class EngineCalls(BoundCalls):
    """KV v2 and PKI with the bound token."""

    def kv_read(self, mount: str, path: str) -> tuple[dict[str, str], int] | None:
        """KV v2: the latest version's data and number, or None if there is none.

        A soft-deleted latest version reads as ``({}, version)``: the next
        check-and-set write must name that version to follow it.
        """
        kv = self._client.secrets.kv.v2

        def read() -> tuple[dict[str, str], int]:
            response = kv.read_secret_version(
                path=path, mount_point=mount, raise_on_deleted_version=False
            )
            data = json_data(response, "kv read") or {}
            values = data.get("data") or {}
            version = (data.get("metadata") or {}).get("version")
            if not isinstance(values, dict) or not isinstance(version, int):
                raise MalformedResponse("no data/version")
            return {str(k): str(v) for k, v in values.items()}, version

        try:
            return self._call("kv read", read)
        except VaultError as error:
            if error.status == 404:
                return None
            raise

    def kv_write(self, mount: str, path: str, data: dict[str, str], *, cas: int) -> int:
        """KV v2 check-and-set write; returns the new version."""
        kv = self._client.secrets.kv.v2

        def write() -> int:
            response = kv.create_or_update_secret(
                path=path, secret=data, cas=cas, mount_point=mount
            )
            version = (json_data(response, "kv write") or {}).get("version")
            if not isinstance(version, int):
                raise MalformedResponse("no version")
            return version

        try:
            return self._call("kv write", write, idempotent=False)
        except VaultError as error:
            if error.status == 400 and "check-and-set" in error.message:
                raise CasMismatch(error.message) from None
            raise

    def pki_issue(
        self,
        mount: str,
        role: str,
        *,
        common_name: str,
        ttl: int | None = None,
        alt_names: tuple[str, ...] = (),
        ip_sans: tuple[str, ...] = (),
    ) -> IssuedCertificate:
        """``POST <mount>/issue/<role>``: a new private key and its certificate.

        Not retried once it may have been processed (each attempt would issue
        another certificate); the private key is registered for redaction
        before anything else sees it.
        """
        pki = self._client.secrets.pki
        params: dict[str, Any] = {}
        if ttl:
            params["ttl"] = f"{ttl}s"
        if alt_names:
            params["alt_names"] = ",".join(alt_names)
        if ip_sans:
            params["ip_sans"] = ",".join(ip_sans)
        action = f"pki issue ({mount}/issue/{role})"

        def issue() -> IssuedCertificate:
            response = pki.generate_certificate(
                name=role,
                common_name=common_name,
                extra_params=params or None,
                mount_point=mount,
            )
            answer = json_object(response, action)
            return IssuedCertificate.from_data(answer.get("data"), answer.get("warnings"))

        issued = self._call(action, issue, idempotent=False)
        register(issued.private_key.reveal())
        return issued
