"""`renewer run` with AWS sessions and PKI certificates, real processes killed at each step.

A child `renewer run` is SIGKILLed at a named crash point between issuing
the new credentials, storing them, writing the sinks and running the hooks;
the next run must leave one consistent set: the profile or the certificate
files equal to what the store holds, a key that belongs to its certificate,
every other profile untouched, and the hook run after the change.

The certificate credential renews from the session's Vault peer (the dev
server, or a real Vault with pki enabled once): its token sink's token is
renewed by the same run and used for ``pki/issue``.
"""

from __future__ import annotations

import configparser
import sys
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from renewer.primitives.base import RuntimeState
from renewer.secretstore.base import Namespace, SecretRef
from renewer.secretstore.local import LocalStore
from tests import leakguard
from tests.integration.conftest import World, finish
from tests.peers.aws_server import MotoPeer, allow
from tests.vaultpeer import ensure_pki, unique

HOOK = """\
import os, sys
with open(sys.argv[1], "a") as out:
    out.write(os.environ["RENEWER_CREDENTIAL"] + "\\n")
"""
OTHER = "# kept\n[default]\nregion = eu-central-1\n"
DOMAIN = "devvm.test"


def store(world: World) -> LocalStore:
    home = world.home
    return LocalStore(home / ".local/share/renewer/store", home / ".config/renewer/store.key")


def runtime(world: World, ref: str) -> RuntimeState:
    state = RuntimeState.from_record(store(world).read(SecretRef.parse(ref), Namespace.RUNTIME))
    issued = state.extra.get("client_key")
    if issued:  # keys renewer got from PKI are secrets for the leak guard
        leakguard.remember(issued, *(line for line in issued.splitlines() if len(line) > 16))
    return state


def hook_lines(world: World) -> list[str]:
    log = world.home / "hook.log"
    return log.read_text().splitlines() if log.exists() else []


def credentials_yaml(world: World, entry: str) -> str:
    recipes = world.home / "recipes"
    script = world.home / "hook.py"
    script.write_text(HOOK)
    hook = f"[{sys.executable}, {script}, {world.home / 'hook.log'}]"
    return f"recipes:\n  dirs: [{recipes}]\ncredentials:\n" + entry.replace("HOOK", hook).replace(
        "HOME", str(world.home)
    )


@pytest.fixture
def aws_world(world: World, moto_peer: MotoPeer) -> World:
    """A run with a token sink and an AssumeRole credential writing profile [dev]."""
    user = moto_peer.new_user(policy=allow("sts:AssumeRole"))
    role = moto_peer.new_role(trusted=user, policy=allow("s3:ListAllMyBuckets"))
    (world.home / "recipes").mkdir()
    (world.home / "recipes" / "peer_role.yaml").write_text(
        "extends: aws_assume_role\nservice: peer_role\nversion: 1\n"
        f"base_url: {moto_peer.url}\n"
        f"aws: {{sts: {{endpoint: '{moto_peer.url}/', duration_seconds: 900}}}}\n"
    )
    world.extra = credentials_yaml(
        world,
        "  - name: aws-dev\n    recipe: peer_role\n    secret: peer_role/dev\n"
        "    sinks: [{type: aws_profile, path: HOME/.aws/credentials, profile: dev}]\n"
        "    hooks: [{command: HOOK}]\n",
    )
    world.write(world.mint_ours())
    (world.home / ".aws").mkdir(mode=0o700)
    (world.home / ".aws" / "credentials").write_text(OTHER)
    store(world).update(
        SecretRef.parse("peer_role/dev"),
        Namespace.SECRET,
        lambda _: {
            "access_key_id": user.keys.access_key_id,
            "secret_access_key": user.keys.secret_access_key.reveal(),
            "role_arn": role,
        },
    )
    return world


@pytest.fixture
def pki_world(world: World) -> World:
    """A run with a token sink and a certificate renewed from the Vault peer's PKI."""
    ensure_pki(world.vault)
    role = unique("devvm")
    world.vault.client().secrets.pki.create_or_update_role(
        role,
        extra_params={"allowed_domains": [DOMAIN], "allow_subdomains": True, "key_type": "ec"},
    )
    (world.home / "recipes").mkdir()
    (world.home / "recipes" / "peer_tls.yaml").write_text(
        "extends: _mtls_base\nservice: peer_tls\nversion: 1\nbase_url: https://127.0.0.1:9\n"
    )
    world.extra = credentials_yaml(
        world,
        "  - name: tls\n    recipe: peer_tls\n    secret: peer_tls/pki\n    test: never\n"
        f"    pki: {{role: {role}, common_name: app.{DOMAIN}, ttl: 24h, token: devvm}}\n"
        "    sinks:\n      - {type: pem_bundle, path: HOME/tls/client.pem}\n"
        "      - {type: cert_dir, path: HOME/tls/client.d}\n"
        "    hooks: [{command: HOOK}]\n",
    )
    world.write(world.mint_ours())
    return world


def certificate_set(text: str) -> tuple[x509.Certificate, Any]:
    return x509.load_pem_x509_certificate(text.encode()), serialization.load_pem_private_key(
        text.encode(), None
    )


def spki(key_or_cert: Any) -> bytes:
    public = key_or_cert.public_key()
    return bytes(
        public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@pytest.mark.floor(6, 16, 20)
class TestAwsProfileCrashes:
    @pytest.mark.parametrize(
        "point",
        ["aws.issued", "credential.stored", "sink.aws_profile.written", "credential.sinks_written"],
    )
    def test_the_next_run_leaves_one_consistent_profile(self, aws_world: World, point: str) -> None:
        """Killed at *point*: the next run's profile is the stored session; the hook ran."""
        world = aws_world
        crashed = finish(world.process("run", env={"RENEWER_CRASHPOINT": point}))
        assert crashed.code == -9, crashed.err

        result = world.cli("run")

        assert result.code == 0, result.err
        parser = configparser.RawConfigParser()
        text = (world.home / ".aws" / "credentials").read_text()
        parser.read_string(text)
        stored = runtime(world, "peer_role/dev")
        assert stored.access_token is not None
        assert dict(parser["dev"]) == {
            "aws_access_key_id": stored.extra["aws_access_key_id"],
            "aws_secret_access_key": stored.extra["aws_secret_access_key"],
            "aws_session_token": stored.access_token.reveal(),
            "x_security_token_expires": stored.extra["aws_expiration"],
        }
        assert text.startswith(OTHER)
        assert hook_lines(world)[-1] == "aws-dev"
        assert not (world.state / "credentials" / "aws-dev.hooks-pending").exists()


@pytest.mark.floor(6, 16, 20)
class TestCertificateCrashes:
    @pytest.mark.parametrize(
        "point",
        [
            "mtls.issued",
            "credential.stored",
            "sink.pem_bundle.written",
            "mtls.generation_written",
            "mtls.switched",
            "credential.sinks_written",
        ],
    )
    def test_never_a_new_certificate_beside_an_old_key(self, pki_world: World, point: str) -> None:
        """Killed at *point*, twice over a renewal: every set on disk belongs together."""
        world = pki_world
        assert world.cli("run").code == 0
        first = runtime(world, "peer_tls/pki").extra["serial"]
        self._force_renewal(world)

        crashed = finish(world.process("run", env={"RENEWER_CRASHPOINT": point}))
        assert crashed.code == -9, crashed.err
        self._assert_consistent(world, allow_stale=True)
        result = world.cli("run")

        assert result.code == 0, result.err
        self._assert_consistent(world, allow_stale=False)
        assert runtime(world, "peer_tls/pki").extra["serial"] != first
        assert hook_lines(world)[-1] == "tls"
        assert not (world.state / "credentials" / "tls.hooks-pending").exists()

    def _force_renewal(self, world: World) -> None:
        """Spoil the stored set (a key of another certificate): the next run must reissue."""
        ref = SecretRef.parse("peer_tls/pki")

        def aged(record: dict[str, str] | None) -> dict[str, str]:
            assert record is not None
            return {**record, "client_key": _other_key()}

        store(world).update(ref, Namespace.RUNTIME, aged)

    def _assert_consistent(self, world: World, *, allow_stale: bool) -> None:
        bundle = world.home / "tls" / "client.pem"
        cert, key = certificate_set(bundle.read_text())
        assert spki(cert) == spki(key)
        current = (world.home / "tls" / "client.d" / "current").resolve()
        dir_cert = x509.load_pem_x509_certificate((current / "cert.pem").read_bytes())
        dir_key = serialization.load_pem_private_key((current / "key.pem").read_bytes(), None)
        assert spki(dir_cert) == spki(dir_key)
        if not allow_stale:
            stored = runtime(world, "peer_tls/pki").extra["client_cert"]
            assert x509.load_pem_x509_certificate(stored.encode()) == cert == dir_cert


def _other_key() -> str:
    """A key that does not belong to the stored certificate: the next run must reissue."""
    from cryptography.hazmat.primitives.asymmetric import ec

    text = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    leakguard.remember(text)
    return text
