"""Rendering the new sink types (pure): aws_profile, pem_bundle, cert_dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from renewer.credentials.sinks import render_sink
from renewer.credentials.spec import SinkSpec
from renewer.errors import CredentialError

SESSION = {
    "aws_access_key_id": "ASIAEXAMPLEEXAMPLE00",
    "aws_secret_access_key": "session-secret",
    "aws_session_token": "session-token",
    "aws_expiration": "2030-01-01T00:00:00Z",
}
CERT = "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n"
CHAIN = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN EC PRIVATE KEY-----\nKEY\n-----END EC PRIVATE KEY-----\n"


def values(**runtime: str) -> dict[str, dict[str, str]]:
    return {"secret": {}, "const": {}, "runtime": runtime}


def profile_sink(profile: str = "dev") -> SinkSpec:
    return SinkSpec("aws_profile", Path("/home/u/.aws/credentials"), profile=profile)


class TestAwsProfile:
    def test_a_session_is_written_with_its_expiry(self) -> None:
        """Four keys, saml2aws' expiry name, into a new file."""
        content = render_sink(
            profile_sink(), values(**SESSION), credential="c", default_value="", current=None
        )

        assert content.data.decode() == (
            "[dev]\naws_access_key_id = ASIAEXAMPLEEXAMPLE00\n"
            "aws_secret_access_key = session-secret\naws_session_token = session-token\n"
            "x_security_token_expires = 2030-01-01T00:00:00Z\n"
        )
        assert content.profile == "dev"
        assert dict(content.entries)["aws_session_token"] == "session-token"

    def test_a_long_lived_key_drops_session_keys_of_the_profile(self) -> None:
        """No session: token and expiry of an earlier session are removed."""
        current = (
            b"[dev]\naws_session_token = old\nx_security_token_expires = 2020-01-01T00:00:00Z\n"
        )

        content = render_sink(
            profile_sink(),
            values(aws_access_key_id="AKIAEXAMPLEEXAMPLE0", aws_secret_access_key="s"),
            credential="c",
            default_value="",
            current=current,
        )

        assert content.data.decode() == (
            "[dev]\naws_access_key_id = AKIAEXAMPLEEXAMPLE0\naws_secret_access_key = s\n"
        )

    def test_a_non_aws_credential_is_refused(self) -> None:
        """The sink says what kind of credential it needs."""
        with pytest.raises(CredentialError, match="an aws_profile sink needs an AWS credential"):
            render_sink(profile_sink(), values(access_token="t"), credential="c", default_value="")

    def test_a_file_that_is_not_utf8_is_left_alone(self) -> None:
        """Not text: refused rather than guessed at."""
        with pytest.raises(CredentialError, match="is not UTF-8 text; the file was not changed"):
            render_sink(
                profile_sink(), values(**SESSION), credential="c", default_value="", current=b"\xff"
            )


class TestCertificateSinks:
    def test_pem_bundle_is_cert_chain_key(self) -> None:
        """One file, in the order servers and requests expect."""
        content = render_sink(
            SinkSpec("pem_bundle", Path("/x.pem")),
            values(client_cert=CERT, ca_chain=CHAIN, client_key=KEY),
            credential="c",
            default_value="",
        )

        assert content.data.decode() == CERT + CHAIN + KEY

    def test_cert_dir_files(self) -> None:
        """cert, key, fullchain and (with a chain) chain."""
        content = render_sink(
            SinkSpec("cert_dir", Path("/d")),
            values(client_cert=CERT, ca_chain=CHAIN, client_key=KEY),
            credential="c",
            default_value="",
        )

        files = {name: data.decode() for name, data in content.files}
        assert files == {
            "cert.pem": CERT,
            "chain.pem": CHAIN,
            "fullchain.pem": CERT + CHAIN,
            "key.pem": KEY,
        }

    def test_cert_dir_without_a_chain_has_no_chain_file(self) -> None:
        """A certificate a person stored without its chain."""
        content = render_sink(
            SinkSpec("cert_dir", Path("/d")),
            values(client_cert=CERT, ca_chain="", client_key=KEY),
            credential="c",
            default_value="",
        )

        assert [name for name, _ in content.files] == ["cert.pem", "fullchain.pem", "key.pem"]

    @pytest.mark.parametrize("kind", ["pem_bundle", "cert_dir"])
    def test_a_credential_without_a_certificate_is_refused(self, kind: str) -> None:
        """Half a set is never written."""
        with pytest.raises(CredentialError, match=f"a {kind} sink needs a client certificate"):
            render_sink(
                SinkSpec(kind, Path("/d")),
                values(client_cert=CERT),
                credential="c",
                default_value="",
            )
