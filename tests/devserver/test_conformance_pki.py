"""Conformance: the PKI engine at ``pki/`` (roles, issue, CA reads), driven through hvac.

Runs against a real Vault too: ``ensure_pki`` enables the engine and makes a
root CA there once. Tests that move the clock need the dev server.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import hvac
import hvac.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from renewer.devserver import DevServer
from tests.devserver.differences import ip_sans_refusals
from tests.devserver.helpers import DENIED, errors, make_token, put_policy
from tests.vaultpeer import VaultPeer, ensure_pki, unique

DOMAIN = "devvm.test"


@pytest.fixture
def pki(vault: VaultPeer) -> hvac.Client:
    """A root client with the PKI engine ready."""
    ensure_pki(vault)
    return vault.client()


def new_role(client: hvac.Client, **settings: Any) -> str:
    """A role allowing subdomains of DOMAIN, EC keys, max 72h, plus *settings*."""
    name = unique("role")
    params = {
        "allowed_domains": [DOMAIN],
        "allow_subdomains": True,
        "max_ttl": "72h",
        "key_type": "ec",
        "key_bits": 256,
        **settings,
    }
    client.secrets.pki.create_or_update_role(name, extra_params=params)
    return name


def issue(client: hvac.Client, role: str, common_name: str, **params: Any) -> dict[str, Any]:
    reply: dict[str, Any] = client.secrets.pki.generate_certificate(
        role, common_name, extra_params=params or None
    )
    return reply


def refused(client: hvac.Client, role: str, common_name: str, **params: Any) -> list[str]:
    with pytest.raises(hvac.exceptions.InvalidRequest) as caught:
        issue(client, role, common_name, **params)
    return errors(caught.value)


def parse(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


class TestRoles:
    def test_write_then_read(self, pki: hvac.Client) -> None:
        """The role reads back with durations in seconds and lists as lists."""
        role = new_role(pki, ttl="1h", allow_bare_domains=True)

        data = pki.secrets.pki.read_role(role)["data"]

        assert data["max_ttl"] == 72 * 3600
        assert data["ttl"] == 3600
        assert data["allowed_domains"] == [DOMAIN]
        assert data["allow_subdomains"] is True
        assert data["allow_bare_domains"] is True
        assert data["allow_localhost"] is True
        assert data["key_type"] == "ec"
        assert data["key_bits"] == 256

    def test_list_and_missing_role(self, pki: hvac.Client, vault: VaultPeer) -> None:
        """LIST shows the role; reading a missing one is 404."""
        role = new_role(pki)

        assert role in pki.secrets.pki.list_roles()["data"]["keys"]
        assert vault.request("GET", f"pki/roles/{unique('nope')}").status_code == 404


class TestIssue:
    def test_certificate_key_and_chain(self, pki: hvac.Client) -> None:
        """A new EC key and a certificate for it, chained to the CA, client and server use."""
        role = new_role(pki)

        data = issue(pki, role, f"app.{DOMAIN}", ttl="1h", alt_names=f"b.{DOMAIN}")["data"]
        cert = parse(data["certificate"])
        key = serialization.load_pem_private_key(data["private_key"].encode(), None)
        ca = parse(pki.secrets.pki.read_ca_certificate())

        assert {"certificate", "issuing_ca", "ca_chain", "private_key", "serial_number"} <= set(
            data
        )
        assert data["private_key_type"] == "ec"
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.public_key().public_numbers() == cert.public_key().public_numbers()  # type: ignore[union-attr]
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"app.{DOMAIN}"
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert set(names.get_values_for_type(x509.DNSName)) == {f"app.{DOMAIN}", f"b.{DOMAIN}"}
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert ExtendedKeyUsageOID.CLIENT_AUTH in usage
        cert.verify_directly_issued_by(ca)
        assert parse(data["issuing_ca"]) == ca
        assert [parse(pem) for pem in data["ca_chain"]] == [ca]

    def test_expiration_serial_and_lifetime(self, pki: hvac.Client) -> None:
        """expiration is not_after in unix seconds; the serial is colon hex; ttl is honoured."""
        role = new_role(pki)

        data = issue(pki, role, f"app.{DOMAIN}", ttl="2h")["data"]
        cert = parse(data["certificate"])

        assert data["expiration"] == int(cert.not_valid_after_utc.timestamp())
        assert all(len(part) == 2 for part in data["serial_number"].split(":"))
        assert int(data["serial_number"].replace(":", ""), 16) == cert.serial_number
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        assert 2 * 3600 <= lifetime.total_seconds() <= 2 * 3600 + 60  # not_before is backdated

    def test_ttl_above_max_ttl_is_capped_with_a_warning(self, pki: hvac.Client) -> None:
        """GetCertificateNotAfter: the role's max_ttl wins, and Vault says so."""
        role = new_role(pki)

        reply = issue(pki, role, f"app.{DOMAIN}", ttl="100h")
        cert = parse(reply["data"]["certificate"])

        assert reply["warnings"] == [
            'TTL "100h0m0s" is longer than permitted maxTTL "72h0m0s", so maxTTL is being used'
        ]
        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        assert 72 * 3600 <= lifetime.total_seconds() <= 72 * 3600 + 60  # not_before backdated

    def test_role_ttl_is_the_default(self, pki: hvac.Client) -> None:
        """Without a requested ttl the role's ttl applies."""
        role = new_role(pki, ttl="30m")

        cert = parse(issue(pki, role, f"app.{DOMAIN}")["data"]["certificate"])

        lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
        assert 1800 <= lifetime.total_seconds() <= 1800 + 60

    def test_ip_sans_and_localhost(self, pki: hvac.Client) -> None:
        """IP SANs are allowed by default; so is localhost."""
        role = new_role(pki)

        cert = parse(issue(pki, role, "localhost", ip_sans="127.0.0.1")["data"]["certificate"])

        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
        assert names.get_values_for_type(x509.DNSName) == ["localhost"]

    def test_rsa_is_the_default_key_type(self, pki: hvac.Client) -> None:
        """key_type defaults to rsa 2048."""
        name = unique("role")
        pki.secrets.pki.create_or_update_role(
            name, extra_params={"allowed_domains": [DOMAIN], "allow_subdomains": True}
        )

        data = issue(pki, name, f"app.{DOMAIN}", ttl="1h")["data"]

        assert data["private_key_type"] == "rsa"
        assert data["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")


class TestRefusals:
    def test_common_name_outside_the_allowed_domains(self, pki: hvac.Client) -> None:
        """Vault's exact 400 text."""
        role = new_role(pki)

        assert refused(pki, role, "evil.example") == [
            "common name evil.example not allowed by this role"
        ]

    def test_bare_domain_needs_allow_bare_domains(self, pki: hvac.Client) -> None:
        """DOMAIN itself is not a subdomain of DOMAIN."""
        strict, bare = new_role(pki), new_role(pki, allow_bare_domains=True)

        assert refused(pki, strict, DOMAIN) == [f"common name {DOMAIN} not allowed by this role"]
        assert issue(pki, bare, DOMAIN, ttl="1h")["data"]["certificate"]

    def test_alt_name_outside_the_allowed_domains(self, pki: hvac.Client) -> None:
        """SANs are checked too, with their own wording."""
        role = new_role(pki)

        assert refused(pki, role, f"ok.{DOMAIN}", alt_names="other.example") == [
            "subject alternate name other.example not allowed by this role"
        ]

    def test_ip_sans_refused_by_the_role(self, pki: hvac.Client) -> None:
        """allow_ip_sans: false."""
        role = new_role(pki, allow_ip_sans=False)

        (message,) = refused(pki, role, f"ok.{DOMAIN}", ip_sans="127.0.0.1")

        assert message in ip_sans_refusals("127.0.0.1")

    def test_unknown_role(self, pki: hvac.Client) -> None:
        """400 ``unknown role: NAME``."""
        name = unique("missing")

        assert refused(pki, name, f"ok.{DOMAIN}") == [f"unknown role: {name}"]

    def test_missing_common_name(self, pki: hvac.Client, vault: VaultPeer) -> None:
        """require_cn is on by default."""
        role = new_role(pki)

        response = vault.request("POST", f"pki/issue/{role}", json={})

        assert response.status_code == 400
        assert "the common_name field is required" in response.json()["errors"][0]


class TestAccess:
    def test_update_on_the_issue_path_is_what_it_takes(
        self, pki: hvac.Client, vault: VaultPeer
    ) -> None:
        """``update`` on pki/issue/ROLE issues; another role's path is denied."""
        role, other = new_role(pki), new_role(pki)
        policy = put_policy(vault, f'path "pki/issue/{role}" {{ capabilities = ["update"] }}')
        client = vault.client(make_token(vault, policies=[policy]))

        assert issue(client, role, f"app.{DOMAIN}", ttl="1h")["data"]["certificate"]
        with pytest.raises(hvac.exceptions.Forbidden) as caught:
            issue(client, other, f"app.{DOMAIN}", ttl="1h")
        assert errors(caught.value) == [DENIED]

    def test_ca_reads_need_no_token(self, pki: hvac.Client, vault: VaultPeer) -> None:
        """``ca/pem`` (raw PEM) and ``cert/ca`` (JSON) are unauthenticated and agree."""
        pem = vault.request("GET", "pki/ca/pem", token="")
        cert_ca = vault.request("GET", "pki/cert/ca", token="")

        assert pem.status_code == 200
        assert pem.text.startswith("-----BEGIN CERTIFICATE-----")
        assert "json" not in pem.headers["Content-Type"]
        assert parse(cert_ca.json()["data"]["certificate"]) == parse(pem.text)
        assert parse(pki.secrets.pki.read_ca_certificate()) == parse(pem.text)


class TestServerClock:
    def test_validity_follows_the_server_clock(self, pki: hvac.Client, vault: VaultPeer) -> None:
        """Three seconds later, not_before moves three seconds too: the server's clock."""
        role = new_role(pki)
        before = parse(issue(pki, role, f"a.{DOMAIN}", ttl="1h")["data"]["certificate"])

        vault.elapse(3)
        after = parse(issue(pki, role, f"a.{DOMAIN}", ttl="1h")["data"]["certificate"])

        moved = after.not_valid_before_utc - before.not_valid_before_utc
        assert 3 <= moved.total_seconds() <= 4 + vault.slack

    def test_a_certificate_may_not_outlive_the_ca(self) -> None:
        """Vault's default leaf_not_after_behavior is err (a private server: the clock jumps)."""
        with DevServer(root_token="root") as server:
            client = hvac.Client(url=server.addr, token="root", timeout=10)
            role = new_role(client, max_ttl="768h")
            server.clock.advance(10 * 365 * 86400 - 3600)

            message = refused(client, role, f"a.{DOMAIN}", ttl="2h")

        assert message[0].startswith("cannot satisfy request, as TTL would result in notAfter")
        assert "beyond the expiration of the CA certificate" in message[0]
