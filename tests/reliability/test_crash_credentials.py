"""Crash consistency of the credential protocols: OAuth refresh, AWS profile, certificate set.

* **OAuth2 refresh** (rotating refresh tokens, the Authlib peer revokes the
  old one on use): token request → ``credential.refreshed`` → runtime blob
  (encrypted, atomic) → hooks marker → sink → hook. After a kill the sink
  is the old access token or one the provider issued, the runtime blob
  decrypts. After the next run the stored refresh token works (the refresh
  succeeds) — except when the kill fell between the provider's rotation and
  the fsync of the runtime blob: nobody can store an answer before it
  arrives. That window is asserted to be the only one, and the run must then
  say exactly what to do (exit 1, ``renewer auth login NAME``), not loop.
* **AWS profile**: STS → runtime → ``~/.aws/credentials`` (every other byte
  kept) → hook. After a kill: the profile is the old one or a complete new
  set equal to what the store holds; ``[default]`` and the comments untouched.
* **Certificate set** (PKI): issue → runtime → ``pem_bundle`` → ``cert_dir``
  generation → symlink switch → hook. After a kill and after the next run:
  every certificate on disk belongs to the key beside it.
"""

from __future__ import annotations

import configparser
import secrets
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from renewer.core.secret import Secret
from renewer.primitives.base import RuntimeState
from renewer.secretstore.base import Namespace, SecretRef
from tests import leakguard
from tests.integration.conftest import World
from tests.integration.test_run_service_credentials import (
    OTHER,
    _other_key,
    certificate_set,
    credentials_yaml,
    hook_lines,
    runtime,
    spki,
    store,
)
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.reliability import budget
from tests.reliability.crash import (
    Kill,
    Protocol,
    assert_private,
    kill_loop,
    occurrences,
    random_kills,
    steps_to_kill,
    trace,
)
from tests.reliability.zygote import Outcome, Zygote
from tests.workspace import oauth_recipe

OAUTH_REF = "peer_oauth/dev"


class CredentialProtocol(Protocol):
    credential = ""
    ref = ""

    def __init__(self, world: World) -> None:
        world.write_config()
        super().__init__(world.home, world.config_path)
        self.world = world
        self.hooks_seen = 0

    def runtime_blob(self) -> Path:
        return store(self.world).path(SecretRef.parse(self.ref), Namespace.RUNTIME)

    def age(self) -> None:
        """Make the stored credentials due for a refresh (they expired a second ago)."""

        def expired(record: dict[str, str] | None) -> dict[str, str]:
            assert record is not None
            return {**record, "expires_at": repr(time.time() - 1)}

        store(self.world).update(SecretRef.parse(self.ref), Namespace.RUNTIME, expired)

    def check_runtime(self) -> RuntimeState:
        assert_private(self.runtime_blob())
        return runtime(self.world, self.ref)  # decrypts and parses, or raises

    def run_ok(self) -> None:
        result = self.world.cli("run")
        assert result.code == 0, result.err
        assert "Traceback" not in result.err
        self.check_hooks_done()

    def check_hooks_done(self) -> None:
        lines = hook_lines(self.world)
        assert lines and lines[-1] == self.credential, "the hook did not run after the change"
        marker = self.world.state / "credentials" / f"{self.credential}.hooks-pending"
        assert not marker.exists()


class OAuthProtocol(CredentialProtocol):
    name = "oauth-refresh"
    credential = "oauth"
    ref = OAUTH_REF

    def __init__(self, world: World, oauth_peer: OAuthPeer, api_peer: ApiPeer) -> None:
        super().__init__(world)
        self.peer = oauth_peer
        self.api = api_peer
        self.window: set[str] = set()  # kill steps where the rotated token cannot be stored yet
        self.old_sink = b""

    @property
    def sink(self) -> Path:
        return self.world.home / "oauth" / "token"

    def setup(self) -> None:
        client_secret = f"client-secret-{secrets.token_urlsafe(18)}"
        leakguard.remember(client_secret)
        self.peer.add_client("renewer-test", client_secret)
        recipes = self.world.home / "recipes"
        recipes.mkdir(exist_ok=True)
        (recipes / "peer_oauth.yaml").write_text(
            oauth_recipe(
                "peer_oauth",
                base_url=self.api.base_url,
                authorize_url=self.peer.authorize_url,
                token_url=self.peer.token_url,
            )
        )
        self.world.extra = credentials_yaml(
            self.world,
            f"  - name: oauth\n    recipe: peer_oauth\n    secret: {OAUTH_REF}\n"
            "    sinks: [{type: file, path: HOME/oauth/token}]\n"
            "    hooks: [{command: HOOK}]\n",
        )
        self.world.write_config()
        store(self.world).update(
            SecretRef.parse(OAUTH_REF),
            Namespace.SECRET,
            lambda _: {"client_id": "renewer-test", "client_secret": client_secret},
        )
        self.world.write(self.world.mint_ours())
        self.login()
        self.run_ok()

    def login(self) -> None:
        """What `renewer auth login oauth` leaves: a fresh grant in the store."""
        token = self.peer.issue("renewer-test")
        assert token.refresh_token is not None
        leakguard.remember(token.access_token, token.refresh_token)
        state = RuntimeState(
            access_token=Secret(token.access_token),
            refresh_token=Secret(token.refresh_token),
            token_type="Bearer",
            issued_at=time.time(),
            expires_at=time.time() + 3600,
        )
        store(self.world).update(
            SecretRef.parse(OAUTH_REF), Namespace.RUNTIME, lambda _: state.to_record()
        )

    def arm(self) -> None:
        self.age()
        self.old_sink = self.sink.read_bytes()

    def issued(self, value: bytes) -> bool:
        return any(token.access_token.encode() == value for token in self.peer.tokens)

    def check_killed(self, outcome: Outcome) -> None:
        content = self.sink.read_bytes()
        assert_private(self.sink)
        assert content == self.old_sink or self.issued(content), "the sink is torn"
        stored = self.check_runtime()
        assert stored.access_token is not None and stored.refresh_token is not None

    def refresh_token_alive(self) -> bool:
        stored = runtime(self.world, OAUTH_REF).refresh_token
        assert stored is not None
        return any(
            token.refresh_token == stored.reveal() and not token.revoked
            for token in self.peer.tokens
        )

    def recover(self) -> str:
        if self.refresh_token_alive():
            self.run_ok()
            stored = runtime(self.world, OAUTH_REF)
            assert stored.access_token is not None
            assert self.sink.read_text() == stored.access_token.reveal()
            assert self.peer.is_valid_access_token(self.sink.read_text())
            assert self.refresh_token_alive(), "the stored refresh token no longer works"
            return "pass"
        # The provider rotated the refresh token and the process died before storing it.
        assert not self.kill.point or self.kill.point in self.window, (
            f"a kill at {self.kill.point} lost the rotated refresh token"
        )
        result = self.world.cli("run")
        assert result.code == 1, result.err
        event = result.event("credential.reauth_required")
        assert "renewer auth login oauth" in event["hint"]
        assert "Traceback" not in result.err
        self.login()  # the person logs in again
        self.run_ok()
        return "refresh-token-lost-in-flight"


def rotation_window(points: list[str]) -> set[str]:
    """Steps after the provider answered and before the runtime blob's rename."""
    steps = occurrences(points)
    window: set[str] = set()
    inside = False
    for step in steps:
        if step.startswith("credential.refreshed#"):
            inside = True
        if inside and step.startswith("write.renamed#"):
            break
        if inside:
            window.add(step)
    return window


class AwsProtocol(CredentialProtocol):
    name = "aws-profile"
    credential = "aws-dev"
    ref = "peer_role/dev"

    @property
    def profile(self) -> Path:
        return self.world.home / ".aws" / "credentials"

    def setup(self) -> None:
        self.run_ok()

    def arm(self) -> None:
        self.age()
        self.old = self.profile.read_bytes()

    def check_killed(self, outcome: Outcome) -> None:
        text = self.profile.read_bytes()
        if text == self.old:
            return
        assert text.decode().startswith(OTHER), "another profile or a comment was damaged"
        stored = self.check_runtime()
        assert self.profile_entries() == self.expected(stored), "the profile is not the stored set"

    def profile_entries(self) -> dict[str, str]:
        parser = configparser.RawConfigParser()
        parser.read_string(self.profile.read_text())
        return dict(parser["dev"])

    def expected(self, stored: RuntimeState) -> dict[str, str]:
        assert stored.access_token is not None
        return {
            "aws_access_key_id": stored.extra["aws_access_key_id"],
            "aws_secret_access_key": stored.extra["aws_secret_access_key"],
            "aws_session_token": stored.access_token.reveal(),
            "x_security_token_expires": stored.extra["aws_expiration"],
        }

    def recover(self) -> str:
        self.run_ok()
        assert self.profile_entries() == self.expected(self.check_runtime())
        assert self.profile.read_text().startswith(OTHER)
        return "pass"


class CertProtocol(CredentialProtocol):
    name = "cert-set"
    credential = "tls"
    ref = "peer_tls/pki"

    def setup(self) -> None:
        self.run_ok()

    def arm(self) -> None:
        """Spoil the stored key (a key of another certificate): the run must reissue."""

        def spoiled(record: dict[str, str] | None) -> dict[str, str]:
            assert record is not None
            return {**record, "client_key": _other_key()}

        store(self.world).update(SecretRef.parse(self.ref), Namespace.RUNTIME, spoiled)

    def assert_sets_match(self) -> tuple[x509.Certificate, x509.Certificate]:
        bundle = self.world.home / "tls" / "client.pem"
        assert_private(bundle)
        cert, key = certificate_set(bundle.read_text())
        assert spki(cert) == spki(key), "pem_bundle: certificate and key do not belong together"
        current = (self.world.home / "tls" / "client.d" / "current").resolve()
        for name in ("cert.pem", "key.pem", "fullchain.pem"):
            assert_private(current / name)
        dir_cert = x509.load_pem_x509_certificate((current / "cert.pem").read_bytes())
        dir_key = serialization.load_pem_private_key((current / "key.pem").read_bytes(), None)
        assert spki(dir_cert) == spki(dir_key), "cert_dir: certificate and key do not match"
        return cert, dir_cert

    def check_killed(self, outcome: Outcome) -> None:
        self.assert_sets_match()
        self.check_runtime()

    def recover(self) -> str:
        self.run_ok()
        bundle_cert, dir_cert = self.assert_sets_match()
        stored = x509.load_pem_x509_certificate(self.check_runtime().extra["client_cert"].encode())
        assert stored == bundle_cert == dir_cert
        return "pass"


@pytest.fixture
def oauth_protocol(world: World, oauth_peer: OAuthPeer, api_peer: ApiPeer) -> OAuthProtocol:
    protocol = OAuthProtocol(world, oauth_peer, api_peer)
    protocol.setup()
    return protocol


def _protocol(kind: str, request: pytest.FixtureRequest) -> CredentialProtocol:
    if kind == "oauth":
        return request.getfixturevalue("oauth_protocol")  # type: ignore[no-any-return]
    world = request.getfixturevalue("aws_world" if kind == "aws" else "pki_world")
    protocol = AwsProtocol(world) if kind == "aws" else CertProtocol(world)
    protocol.setup()
    return protocol


KINDS = ["oauth", "aws", "cert"]


@pytest.mark.floor(6, 16, 20)
@pytest.mark.parametrize("kind", KINDS)
def test_a_kill_at_every_step_keeps_credentials_whole(
    request: pytest.FixtureRequest, zygote: Zygote, kind: str
) -> None:
    """Each crash point (every occurrence in the long run): old-or-new, then whole again."""
    protocol = _protocol(kind, request)
    points, _ = trace(protocol, zygote)
    if isinstance(protocol, OAuthProtocol):
        protocol.window = rotation_window(points)
        assert protocol.window, "the trace shows no refresh"
    steps = steps_to_kill(points, short_sample=3, salt=kind)
    labels = kill_loop(protocol, zygote, [Kill(point=s) for s in steps], case=f"points/{kind}")
    if isinstance(protocol, OAuthProtocol):  # exactly the window's kills lose the grant
        assert labels.get("refresh-token-lost-in-flight", 0) == len(protocol.window & set(steps)), (
            labels
        )


@pytest.mark.floor(6, 16, 20)
@pytest.mark.parametrize("kind", KINDS)
def test_random_kills_keep_credentials_whole(
    request: pytest.FixtureRequest, zygote: Zygote, kind: str
) -> None:
    """SIGKILL after a random delay within the protocol's own duration, many times."""
    protocol = _protocol(kind, request)
    _, duration = trace(protocol, zygote)
    kills = random_kills(budget.scaled(2, 100), duration, salt=kind)
    kill_loop(protocol, zygote, kills, case=f"random-kill/{protocol.name}")
