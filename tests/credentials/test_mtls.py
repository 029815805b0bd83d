"""mtls: client certificates checked, tested by a real handshake, renewed from Vault PKI.

The TLS peer requires and verifies client certificates (a CA made here with
trustme, and the PKI CA of a private dev server); the PKI tests use their
own dev server so that certificates are valid by the real clock OpenSSL
uses, whatever other tests do to the shared server's virtual clock.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from renewer.binding import BoundSession
from renewer.core.outcome import ItemResult, Outcome, exit_code
from renewer.credentials.runner import run_credentials
from renewer.credentials.status import credential_statuses
from renewer.errors import CredentialReauthRequired
from renewer.secretstore import Stores
from tests import leakguard
from tests.keys import client_cert
from tests.peers.tls_server import TlsPeer
from tests.vaultpeer import VaultPeer, ensure_pki
from tests.workspace import FAST, Workspace

DAY = 86400.0
ROLE = "devvm"
DOMAIN = "devvm.test"
HOOK = """\
import os, sys
with open(sys.argv[1], "a") as out:
    out.write(os.environ["RENEWER_SINKS"] + "\\n")
"""


@pytest.fixture(scope="module")
def client_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def pki_server(vault_peer: VaultPeer) -> VaultPeer:
    """The session's Vault (dev server or OpenBao) with a PKI role for DOMAIN (EC, max 72h)."""
    mount = ensure_pki(vault_peer)
    vault_peer.client().secrets.pki.create_or_update_role(
        ROLE,
        extra_params={
            "allowed_domains": [DOMAIN],
            "allow_subdomains": True,
            "max_ttl": "72h",
            "key_type": "ec",
        },
        mount_point=mount,
    )
    return vault_peer


@pytest.fixture
def tls_peer(client_ca: trustme.CA, pki_server: VaultPeer) -> Iterator[TlsPeer]:
    pki_ca = hvac.Client(url=pki_server.addr, timeout=10).secrets.pki.read_ca_certificate()
    peer = TlsPeer(client_ca_pems=[client_ca.cert_pem.bytes().decode(), pki_ca])
    try:
        yield peer
    finally:
        peer.stop()


def recipe(workspace: Workspace, peer: TlsPeer) -> None:
    workspace.recipe(
        "peer_tls",
        f"""\
        extends: _mtls_base
        service: peer_tls
        version: 1
        base_url: {peer.base_url}/v1
        test:
          method: GET
          path: /whoami
          expect_status: 200
        """,
    )


def stored_setup(
    workspace: Workspace, peer: TlsPeer, ca: trustme.CA, *, cert: tuple[str, str] | None = None
) -> tuple[str, str]:
    """A credential with a certificate a person stored; returns (cert, key)."""
    workspace.clock.now_value = time.time()
    recipe(workspace, peer)
    workspace.credential("tls", "peer_tls", "peer_tls/main")
    cert_pem, key_pem = cert or client_cert(ca, "stored-client")
    workspace.set_secret(
        "peer_tls/main", client_cert=cert_pem, client_key=key_pem, ca_cert=peer.server_ca_pem
    )
    return cert_pem, key_pem


def pki_setup(
    workspace: Workspace,
    peer: TlsPeer,
    server: VaultPeer,
    *,
    token: str | None = None,
    common_name: str = f"app.{DOMAIN}",
) -> dict[str, Path]:
    """A credential renewed from the private dev server's PKI, with both certificate sinks."""
    workspace.clock.now_value = time.time()
    recipe(workspace, peer)
    token_file = workspace.home / ".vault-token"
    token_file.write_text(token or server.root_token)
    token_file.chmod(0o600)
    workspace.extra = {
        "vault": {"addr": server.addr},
        "tokens": [
            {
                "name": "devvm",
                "path": str(token_file),
                "expect": {"display_name": "token-devvm", "policies": ["root"]},
                "mint": {"display_name": "devvm", "policies": ["root"], "period": "768h"},
            }
        ],
    }
    paths = {
        "bundle": workspace.home / "tls" / "client.pem",
        "dir": workspace.home / "tls" / "client.d",
        "hook_log": workspace.home / "hook.log",
    }
    script = workspace.home / "hook.py"
    script.write_text(HOOK)
    workspace.credential(
        "tls",
        "peer_tls",
        "peer_tls/pki",
        pki={"role": ROLE, "common_name": common_name, "ttl": "24h"},
        sinks=[
            {"type": "pem_bundle", "path": str(paths["bundle"])},
            {"type": "cert_dir", "path": str(paths["dir"])},
        ],
        hooks=[{"command": [sys.executable, str(script), str(paths["hook_log"])]}],
    )
    workspace.set_secret("peer_tls/pki", ca_cert=peer.server_ca_pem)
    return paths


def run(workspace: Workspace) -> list[ItemResult]:
    results = run_credentials(
        workspace.config(),
        now=workspace.clock.now,
        sleep=workspace.clock.sleep,
        rng=random.Random(9),
        policy=FAST,
    )
    for ref in ("peer_tls/pki", "peer_tls/main"):  # issued keys are secrets for the leak guard
        issued = workspace.runtime(ref).extra.get("client_key")
        if issued:
            leakguard.remember(issued, *(line for line in issued.splitlines() if len(line) > 16))
    return results


def cert_and_key(pem: str) -> tuple[x509.Certificate, Any]:
    cert = x509.load_pem_x509_certificate(pem.encode())
    key = serialization.load_pem_private_key(pem.encode(), None)
    return cert, key


def matches(cert: x509.Certificate, key: Any) -> bool:
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki))


class TestStoredCertificate:
    def test_handshake_and_recipe_test_pass(
        self, workspace: Workspace, tls_peer: TlsPeer, client_ca: trustme.CA
    ) -> None:
        """A real TLS handshake with the client certificate, then the recipe's GET over it."""
        stored_setup(workspace, tls_peer, client_ca)
        credential = workspace.open("tls")

        result = credential.test(credential.ensure_fresh().state)

        assert result.passed, result.problems
        assert result.status == 200
        assert [client.common_name for client in tls_peer.clients] == ["stored-client"] * 2

    def test_bind_presents_the_certificate(
        self, workspace: Workspace, tls_peer: TlsPeer, client_ca: trustme.CA
    ) -> None:
        """renewer.bind sessions carry the client certificate and trust only ca_cert."""
        stored_setup(workspace, tls_peer, client_ca)

        with BoundSession(workspace.open("tls")) as session:
            answer = session.get("/whoami")

        assert answer.json() == {"client": "stored-client"}

    def test_a_certificate_the_server_does_not_trust(
        self, workspace: Workspace, tls_peer: TlsPeer
    ) -> None:
        """A client CA the server does not know: the handshake fails, the test says why."""
        stored_setup(workspace, tls_peer, trustme.CA())
        credential = workspace.open("tls")

        result = credential.test(credential.ensure_fresh().state)

        assert not result.passed
        assert (
            "the TLS handshake failed: tlsv1 alert unknown ca" in result.problems[0]
            or "it most likely refused the client certificate" in result.problems[0]
        )
        assert tls_peer.clients == []

    def test_a_server_this_machine_does_not_trust(
        self, workspace: Workspace, tls_peer: TlsPeer, client_ca: trustme.CA
    ) -> None:
        """No ca_cert: the system store does not know the test CA; the message says what to do."""
        stored_setup(workspace, tls_peer, client_ca)
        cert_pem, key_pem = client_cert(client_ca, "stored-client")
        workspace.set_secret("peer_tls/main", client_cert=cert_pem, client_key=key_pem)
        credential = workspace.open("tls")

        result = credential.test(credential.ensure_fresh().state)

        assert not result.passed
        assert "the server's certificate is not trusted" in result.problems[0]
        assert "store its CA as ca_cert" in result.problems[0]

    def test_a_certificate_not_yet_valid_needs_a_person(
        self, workspace: Workspace, tls_peer: TlsPeer, client_ca: trustme.CA
    ) -> None:
        """A certificate from the future (a skewed CA clock) is not presented."""
        now = time.time()
        stored_setup(
            workspace,
            tls_peer,
            client_ca,
            cert=client_cert(client_ca, "early", not_before=now + DAY, not_after=now + 9 * DAY),
        )

        with pytest.raises(CredentialReauthRequired, match="the certificate is not valid before"):
            workspace.open("tls").ensure_fresh()

    def test_an_expired_certificate_needs_a_person(
        self, workspace: Workspace, tls_peer: TlsPeer, client_ca: trustme.CA
    ) -> None:
        """No pki: an expired certificate is exit 1 with `creds set`."""
        now = time.time()
        stored_setup(
            workspace,
            tls_peer,
            client_ca,
            cert=client_cert(client_ca, "old", not_before=now - 10 * DAY, not_after=now - DAY),
        )

        with pytest.raises(CredentialReauthRequired) as caught:
            workspace.open("tls").ensure_fresh()

        assert "the certificate expired at" in caught.value.message
        assert caught.value.hint == "renewer creds set tls"

    def test_a_key_of_another_certificate_is_not_used(
        self, workspace: Workspace, tls_peer: TlsPeer, client_ca: trustme.CA
    ) -> None:
        """A new certificate beside an old key is refused before any handshake."""
        cert_pem, _ = client_cert(client_ca, "one")
        _, other_key = client_cert(client_ca, "two")
        stored_setup(workspace, tls_peer, client_ca, cert=(cert_pem, other_key))

        with pytest.raises(CredentialReauthRequired, match="does not belong to the certificate"):
            workspace.open("tls").ensure_fresh()

    def test_the_renewal_window_without_pki_is_a_warning(
        self, workspace: Workspace, tls_peer: TlsPeer, client_ca: trustme.CA
    ) -> None:
        """Two thirds used and nothing can renew it: used, exit 0, but a warning and `expiring`."""
        now = time.time()
        stored_setup(
            workspace,
            tls_peer,
            client_ca,
            cert=client_cert(
                client_ca, "aging", not_before=now - 80 * DAY, not_after=now + 10 * DAY
            ),
        )

        [result] = run(workspace)
        config = workspace.config()
        [status] = credential_statuses(config, http=workspace.http(), stores=Stores(config))

        assert result.outcome is Outcome.WARNING
        assert result.event == "credential.expiring"
        assert "renew it: renewer creds set tls" in result.summary
        assert exit_code([result]) == 0
        assert status.state == "expiring"
        assert not status.healthy


class TestPkiRenewal:
    def test_first_run_issues_one_consistent_set_and_runs_the_hook(
        self, workspace: Workspace, tls_peer: TlsPeer, pki_server: VaultPeer
    ) -> None:
        """Issued from PKI, tested by handshake, written as a bundle and a switched directory."""
        paths = pki_setup(workspace, tls_peer, pki_server)

        [result] = run(workspace)

        assert result.outcome is Outcome.OK, result.summary
        cert, key = cert_and_key(paths["bundle"].read_text())
        assert matches(cert, key)
        assert cert.subject.rfc4514_string() == f"CN=app.{DOMAIN}"
        assert oct(paths["bundle"].stat().st_mode & 0o777) == "0o600"
        current = paths["dir"] / "current"
        assert current.readlink() == Path("gen-1")
        dir_cert = x509.load_pem_x509_certificate((current / "cert.pem").read_bytes())
        dir_key = serialization.load_pem_private_key((current / "key.pem").read_bytes(), None)
        assert dir_cert == cert
        assert matches(dir_cert, dir_key)
        chain = (current / "chain.pem").read_text()
        assert (current / "fullchain.pem").read_text() == (current / "cert.pem").read_text() + chain
        assert [client.common_name for client in tls_peer.clients] == [f"app.{DOMAIN}"] * 2
        assert len(paths["hook_log"].read_text().splitlines()) == 1
        assert workspace.runtime("peer_tls/pki").extra["serial"]

    def test_renewed_when_a_third_of_the_lifetime_is_left(
        self, workspace: Workspace, tls_peer: TlsPeer, pki_server: VaultPeer
    ) -> None:
        """Quiet while fresh; past two thirds a new key and certificate replace the set."""
        paths = pki_setup(workspace, tls_peer, pki_server)
        run(workspace)
        first = workspace.runtime("peer_tls/pki").extra["serial"]

        [quiet] = run(workspace)
        workspace.clock.advance(17 * 3600)  # 24h certificate: past 2/3
        [renewed] = run(workspace)

        serial = workspace.runtime("peer_tls/pki").extra["serial"]
        cert, key = cert_and_key(paths["bundle"].read_text())
        assert quiet.outcome is Outcome.UNCHANGED
        assert renewed.event == "credential.refreshed", renewed.summary
        assert serial != first
        assert matches(cert, key)
        assert (paths["dir"] / "current").readlink() == Path("gen-2")
        assert (paths["dir"] / "gen-1").is_dir()
        assert len(paths["hook_log"].read_text().splitlines()) == 2

    def test_a_refused_common_name_changes_nothing(
        self, workspace: Workspace, tls_peer: TlsPeer, pki_server: VaultPeer
    ) -> None:
        """Vault's 400 is the message; the sinks stay byte-identical."""
        paths = pki_setup(workspace, tls_peer, pki_server)
        run(workspace)
        bundle = paths["bundle"].read_bytes()
        workspace.credentials[0]["pki"]["common_name"] = "evil.example"
        workspace.write_config()
        workspace.clock.advance(20 * 3600)

        [result] = run(workspace)

        assert result.outcome is Outcome.NEEDS_HUMAN
        assert "common name evil.example not allowed by this role" in result.summary
        assert f"vault read pki/roles/{ROLE}" in str(result.details["hint"])
        assert paths["bundle"].read_bytes() == bundle
        assert (paths["dir"] / "current").readlink() == Path("gen-1")

    def test_a_token_without_the_policy_is_denied(
        self, workspace: Workspace, tls_peer: TlsPeer, pki_server: VaultPeer
    ) -> None:
        """403 from Vault: the message names the path the token's policy needs."""
        client = hvac.Client(url=pki_server.addr, token=pki_server.root_token, timeout=10)
        client.sys.create_or_update_acl_policy(
            name="no-pki", policy='path "secret/*" { capabilities = ["read"] }'
        )
        weak = client.auth.token.create(policies=["no-pki"])["auth"]["client_token"]
        leakguard.remember(weak)
        paths = pki_setup(workspace, tls_peer, pki_server, token=weak)

        [result] = run(workspace)

        assert result.outcome is Outcome.NEEDS_HUMAN
        assert "Vault refused to issue a certificate from pki/issue/devvm" in result.summary
        assert "needs update on pki/issue/devvm" in str(result.details["hint"])
        assert not paths["bundle"].exists()

    def test_a_sealed_vault_is_temporary(
        self, workspace: Workspace, tls_peer: TlsPeer, pki_server: VaultPeer
    ) -> None:
        """Vault down: exit 75, nothing written; the next run will try again."""
        paths = pki_setup(workspace, tls_peer, pki_server)
        workspace.extra["run"] = {"deadline": 1}  # the Vault retries give up within a second
        workspace.write_config()
        controls = pki_server.require_dev()
        controls.seal()
        try:
            [result] = run(workspace)
        finally:
            controls.unseal()

        assert result.outcome is Outcome.TEMPORARY
        assert not paths["bundle"].exists()
