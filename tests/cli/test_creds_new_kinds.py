"""renewer creds set|test|call|list and run for service accounts (Google, AWS) and mtls."""

from __future__ import annotations

import json
import time

import pytest
import trustme
from cryptography.hazmat.primitives.asymmetric import rsa

from renewer.secretstore.base import Namespace, SecretRef
from tests.cli.helpers import Ran, invoke
from tests.keys import EMAIL, KEY_ID, client_cert, ec_key, private_pem, service_account_json
from tests.peers.aws_server import MotoPeer, allow
from tests.peers.jwt_token_server import JwtTokenPeer
from tests.peers.tls_server import TlsPeer
from tests.workspace import Workspace


def renewer(workspace: Workspace, *args: str, input: str | None = None) -> Ran:
    return invoke(
        ["--config", str(workspace.config_path), "--log-format", "json", *args],
        input=input,
        env={"HOME": str(workspace.home)},
    )


def stored(workspace: Workspace, ref: str) -> dict[str, str] | None:
    return workspace.store().read(SecretRef.parse(ref), Namespace.SECRET)


@pytest.fixture
def google(workspace: Workspace, jwt_peer: JwtTokenPeer, rsa_key: rsa.RSAPrivateKey) -> str:
    """A google_calendar credential pointed at the local token endpoint (real clock)."""
    workspace.clock.now_value = time.time()
    workspace.recipe(
        "gcal",
        f"""\
        extends: google_calendar
        service: gcal
        version: 1
        base_url: {jwt_peer.url}/calendar/v3
        token_exchange:
          endpoint: {jwt_peer.token_url}
          audience: {jwt_peer.token_url}
        """,
    )
    workspace.credential("cal", "gcal", "gcal/work")
    jwt_peer.register(EMAIL, rsa_key.public_key(), algorithm="RS256", key_id=KEY_ID)
    return service_account_json(rsa_key)


class TestGoogleServiceAccount:
    def test_set_test_call_and_list(self, workspace: Workspace, google: str) -> None:
        """The key file pasted on stdin as it is; then a passing test and a real call."""
        setting = renewer(workspace, "creds", "set", "cal", "--stdin", input=google)
        testing = renewer(workspace, "creds", "test", "cal")
        calling = renewer(workspace, "creds", "call", "cal", "GET", "/users/me/calendarList")
        listing = renewer(workspace, "creds", "list", "--json")

        assert setting.code == 0, setting.stderr
        assert "stored 1 value(s) for cal" in setting.stdout
        assert testing.code == 0, testing.stderr
        assert testing.stdout.startswith("PASS cal: GET /users/me/calendarList → HTTP 200")
        assert calling.code == 0
        assert json.loads(calling.stdout)["kind"] == "calendar#calendarList"
        [row] = json.loads(listing.stdout)["credentials"]
        assert row["state"] == "ok"
        assert row["detail"].startswith("valid for")

    @pytest.mark.parametrize(
        ("blob", "code", "message"),
        [
            ("{not json", 2, "service_account_json: not valid JSON; nothing was stored"),
            (
                json.dumps({"type": "authorized_user", "client_id": "x"}),
                1,
                "cal: service_account_json: a 'authorized_user' credential",
            ),
        ],
        ids=["not-json", "user-credentials"],
    )
    def test_a_bad_key_file_is_refused_and_nothing_is_stored(
        self, workspace: Workspace, google: str, blob: str, code: int, message: str
    ) -> None:
        """The error names the credential and the field; the store stays empty."""
        ran = renewer(workspace, "creds", "set", "cal", "--stdin", input=blob)

        assert ran.code == code
        assert message in ran.stderr
        assert "Traceback" not in ran.stderr
        assert stored(workspace, "gcal/work") is None

    def test_an_ec_key_is_refused_at_set_time(self, workspace: Workspace, google: str) -> None:
        """Google keys are RSA: a key file with an EC key never reaches the store."""
        ran = renewer(
            workspace, "creds", "set", "cal", "--stdin", input=service_account_json(ec_key())
        )

        assert ran.code == 1
        assert "cal: service_account_json.private_key: not an RSA key" in ran.stderr
        assert stored(workspace, "gcal/work") is None

    def test_a_new_key_clears_the_needs_a_person_mark(
        self, workspace: Workspace, google: str, jwt_peer: JwtTokenPeer
    ) -> None:
        """invalid_grant marks the credential; `creds set` with a key lets the next test try."""
        renewer(workspace, "creds", "set", "cal", "--stdin", input=google)
        jwt_peer.invalid_grant = True
        refused = renewer(workspace, "creds", "test", "cal")
        marked = json.loads(renewer(workspace, "creds", "list", "--json").stdout)
        jwt_peer.invalid_grant = False

        renewer(workspace, "creds", "set", "cal", "--stdin", input=google)
        retried = renewer(workspace, "creds", "test", "cal")

        assert refused.code == 1
        assert "hint: renewer creds set cal" in refused.stderr
        assert marked["credentials"][0]["state"] == "needs-login"
        assert retried.code == 0, retried.stderr


class TestGenericJwt:
    def test_set_and_test_an_es256_issuer(
        self, workspace: Workspace, jwt_peer: JwtTokenPeer
    ) -> None:
        """A PEM key and an issuer id in a JSON object on stdin; the test passes."""
        workspace.clock.now_value = time.time()
        workspace.recipe(
            "idp_jwt",
            f"""\
            service: idp_jwt
            version: 1
            primitive: service_account
            kind: generic_jwt
            base_url: {jwt_peer.url}/v1
            token_exchange:
              endpoint: {jwt_peer.token_url}
              algorithm: ES256
              issuer_from_secret: client_id
            required_secrets:
              - {{key: client_id, secret: false}}
              - {{key: private_key, type: pem_key}}
            inject:
              header: {{Authorization: "Bearer {{{{runtime.access_token}}}}"}}
            test: {{method: GET, path: /me, expect_status: 200}}
            """,
        )
        workspace.credential("idp", "idp_jwt", "idp_jwt/main")
        key = ec_key()
        jwt_peer.register("svc-cli", key.public_key(), algorithm="ES256")
        values = {"client_id": "svc-cli", "private_key": private_pem(key)}

        setting = renewer(workspace, "creds", "set", "idp", "--stdin", input=json.dumps(values))
        testing = renewer(workspace, "creds", "test", "idp")
        wrong = renewer(
            workspace,
            "creds",
            "set",
            "idp",
            "--stdin",
            input=json.dumps(
                {"client_id": "svc-cli", "private_key": "-----BEGIN PRIVATE KEY-----\nnope"}
            ),
        )

        assert setting.code == 0, setting.stderr
        assert testing.stdout.startswith("PASS idp: GET /me → HTTP 200"), testing.stderr
        assert wrong.code == 1
        assert "idp: private_key: not a PEM private key" in wrong.stderr


class TestAws:
    def test_set_test_call_and_run(self, workspace: Workspace, moto_peer: MotoPeer) -> None:
        """S3 through the built-in aws_s3: set, test (ListBuckets), call, run with a profile."""
        user = moto_peer.new_user(policy=allow("s3:ListAllMyBuckets"))
        workspace.recipe(
            "peer_s3",
            f"extends: aws_s3\nservice: peer_s3\nversion: 1\nbase_url: {moto_peer.url}\n",
        )
        profile = workspace.home / ".aws" / "credentials"
        workspace.credential(
            "s3",
            "peer_s3",
            "peer_s3/main",
            sinks=[{"type": "aws_profile", "path": str(profile), "profile": "work"}],
        )
        values = {
            "access_key_id": user.keys.access_key_id,
            "secret_access_key": user.keys.secret_access_key.reveal(),
        }

        setting = renewer(workspace, "creds", "set", "s3", "--stdin", input=json.dumps(values))
        testing = renewer(workspace, "creds", "test", "s3")
        calling = renewer(workspace, "creds", "call", "s3", "GET", "/")
        running = renewer(workspace, "run")

        assert setting.code == 0, setting.stderr
        assert testing.stdout.startswith("PASS s3: GET / → HTTP 200"), testing.stderr
        assert "ListAllMyBucketsResult" in calling.stdout
        assert running.code == 0, running.stderr
        assert f"aws_access_key_id = {user.keys.access_key_id}" in profile.read_text()

    def test_a_malformed_access_key_id_is_refused(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """A pasted line with spaces is not an access key id: nothing stored."""
        workspace.recipe(
            "peer_s3",
            f"extends: aws_s3\nservice: peer_s3\nversion: 1\nbase_url: {moto_peer.url}\n",
        )
        workspace.credential("s3", "peer_s3", "peer_s3/main")
        values = {"access_key_id": "AKIA has spaces", "secret_access_key": "x" * 40}

        ran = renewer(workspace, "creds", "set", "s3", "--stdin", input=json.dumps(values))

        assert ran.code == 1
        assert "s3: access_key_id: not an AWS access key id" in ran.stderr
        assert stored(workspace, "peer_s3/main") is None


class TestMtls:
    @pytest.fixture
    def tls(self, workspace: Workspace) -> tuple[TlsPeer, trustme.CA]:
        ca = trustme.CA()
        peer = TlsPeer(client_ca_pems=[ca.cert_pem.bytes().decode()])
        workspace.recipe(
            "peer_tls",
            f"extends: _mtls_base\nservice: peer_tls\nversion: 1\nbase_url: {peer.base_url}\n"
            "test: {method: GET, path: /whoami, expect_status: 200}\n",
        )
        workspace.credential("tls", "peer_tls", "peer_tls/main")
        return peer, ca

    def test_set_test_and_call(self, workspace: Workspace, tls: tuple[TlsPeer, trustme.CA]) -> None:
        """PEM values in a JSON object on stdin; the test is a handshake plus the recipe call."""
        peer, ca = tls
        cert, key = client_cert(ca, "cli-client")
        values = {"client_cert": cert, "client_key": key, "ca_cert": peer.server_ca_pem}
        try:
            setting = renewer(workspace, "creds", "set", "tls", "--stdin", input=json.dumps(values))
            testing = renewer(workspace, "creds", "test", "tls")
            calling = renewer(workspace, "creds", "call", "tls", "GET", "/whoami")
        finally:
            peer.stop()

        assert setting.code == 0, setting.stderr
        assert testing.code == 0, testing.stderr
        assert testing.stdout.startswith("PASS tls: TLS handshake, GET /whoami → HTTP 200")
        assert json.loads(calling.stdout) == {"client": "cli-client"}

    def test_a_key_of_another_certificate_is_refused(
        self, workspace: Workspace, tls: tuple[TlsPeer, trustme.CA]
    ) -> None:
        """Never a certificate beside a key it does not belong to: nothing stored."""
        peer, ca = tls
        peer.stop()
        cert, _ = client_cert(ca, "one")
        _, other = client_cert(ca, "two")

        ran = renewer(
            workspace,
            "creds",
            "set",
            "tls",
            "--stdin",
            input=json.dumps({"client_cert": cert, "client_key": other}),
        )

        assert ran.code == 1
        assert (
            "tls: client_key: it does not belong to client_cert; nothing was stored" in ran.stderr
        )
        assert stored(workspace, "peer_tls/main") is None
