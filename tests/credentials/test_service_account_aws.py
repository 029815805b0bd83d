"""service_account kind aws_sigv4 against moto's server: SigV4, STS sessions, ~/.aws/credentials."""

from __future__ import annotations

import configparser
import random
from typing import Any

import pytest

from renewer.binding import BoundSession
from renewer.core.outcome import ItemResult, Outcome
from renewer.credentials.runner import run_credentials
from renewer.errors import CredentialError, CredentialReauthRequired, ServiceUnavailable
from tests.peers.aws_server import MotoPeer, User, allow
from tests.peers.jwt_token_server import JwtTokenPeer
from tests.workspace import FAST, Workspace

OTHER_PROFILES = """\
# hand-written notes survive renewer
[default]
aws_access_key_id = AKIADEFAULTDEFAULT00
aws_secret_access_key = default-secret-not-ours
region = eu-central-1

; the dev profile below is renewer's
[dev]
region = eu-west-1
"""


def run(workspace: Workspace) -> list[ItemResult]:
    return run_credentials(
        workspace.config(),
        now=workspace.clock.now,
        sleep=workspace.clock.sleep,
        rng=random.Random(5),
        policy=FAST,
    )


def role_user(moto: MotoPeer) -> tuple[User, str]:
    """A user allowed to assume a role that may list buckets."""
    user = moto.new_user(policy=allow("sts:AssumeRole", "sts:GetSessionToken"))
    role = moto.new_role(trusted=user, policy=allow("s3:ListAllMyBuckets"))
    return user, role


def role_setup(
    workspace: Workspace,
    moto: MotoPeer,
    *,
    user: User,
    role: str,
    endpoint: str | None = None,
    **fields: Any,
) -> Any:
    """An S3 credential using AssumeRole sessions; returns the profile file's path."""
    workspace.recipe(
        "peer_s3",
        f"""\
        extends: aws_s3
        service: peer_s3
        version: 1
        base_url: {moto.url}
        aws:
          sts:
            action: AssumeRole
            endpoint: {endpoint or moto.url + "/"}
            duration_seconds: 900
        required_secrets: !append
          - {{key: role_arn, secret: false}}
        """,
    )
    profile = workspace.home / ".aws" / "credentials"
    fields.setdefault("sinks", [{"type": "aws_profile", "path": str(profile), "profile": "dev"}])
    workspace.credential("s3", "peer_s3", "peer_s3/dev", **fields)
    workspace.set_secret(
        "peer_s3/dev",
        access_key_id=user.keys.access_key_id,
        secret_access_key=user.keys.secret_access_key.reveal(),
        role_arn=role,
    )
    return profile


def profile_of(path: Any, name: str = "dev") -> dict[str, str]:
    parser = configparser.RawConfigParser()
    parser.read_string(path.read_text())
    return dict(parser[name])


class TestSigV4:
    def test_bind_signs_with_the_long_lived_key(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """No STS: every request is signed with the stored key; moto checks the signature."""
        user = moto_peer.new_user(policy=allow("s3:ListAllMyBuckets"))
        workspace.recipe(
            "peer_s3",
            f"extends: aws_s3\nservice: peer_s3\nversion: 1\nbase_url: {moto_peer.url}\n",
        )
        workspace.credential("s3", "peer_s3", "peer_s3/static")
        workspace.set_secret(
            "peer_s3/static",
            access_key_id=user.keys.access_key_id,
            secret_access_key=user.keys.secret_access_key.reveal(),
        )
        before = len(moto_peer.seen)

        with BoundSession(workspace.open("s3")) as session:
            answer = session.get("/")

        [seen] = moto_peer.seen[before:]
        assert answer.status_code == 200, answer.text
        assert "ListAllMyBucketsResult" in answer.text
        assert seen.access_key_id == user.keys.access_key_id
        assert seen.service == "s3"
        assert not seen.session_token

    def test_a_wrong_secret_fails_the_test_with_moto_403(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """SignatureDoesNotMatch is a failed test (exit 1), not a crash."""
        user = moto_peer.new_user(policy=allow("s3:ListAllMyBuckets"))
        workspace.recipe(
            "peer_s3",
            f"extends: aws_s3\nservice: peer_s3\nversion: 1\nbase_url: {moto_peer.url}\n",
        )
        workspace.credential("s3", "peer_s3", "peer_s3/static", test="always")
        workspace.set_secret(
            "peer_s3/static",
            access_key_id=user.keys.access_key_id,
            secret_access_key="not-the-right-secret-at-all",
        )

        [result] = run(workspace)

        assert result.outcome is Outcome.NEEDS_HUMAN
        assert result.event == "credential.test_failed"
        assert "expected HTTP 200, got HTTP 403" in result.summary


class TestSessions:
    def test_assume_role_session_lands_in_the_profile(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """STS with the long-lived key, S3 with the session; the profile file is exact."""
        user, role = role_user(moto_peer)
        profile = role_setup(workspace, moto_peer, user=user, role=role)
        profile.parent.mkdir(mode=0o700)
        profile.write_text(OTHER_PROFILES)
        before = len(moto_peer.seen)

        [result] = run(workspace)

        assert result.outcome is Outcome.OK, result.summary
        seen = moto_peer.seen[before:]
        assert [(s.service, s.status) for s in seen] == [("sts", 200), ("s3", 200)]
        assert seen[0].access_key_id == user.keys.access_key_id
        assert not seen[0].session_token
        stored = workspace.runtime("peer_s3/dev")
        session_key = stored.extra["aws_access_key_id"]
        assert seen[1].access_key_id == session_key != user.keys.access_key_id
        assert seen[1].session_token
        dev = profile_of(profile)
        assert stored.access_token is not None
        assert dev == {
            "region": "eu-west-1",
            "aws_access_key_id": session_key,
            "aws_secret_access_key": stored.extra["aws_secret_access_key"],
            "aws_session_token": stored.access_token.reveal(),
            "x_security_token_expires": stored.extra["aws_expiration"],
        }
        text = profile.read_text()
        assert text.startswith(OTHER_PROFILES.split("[dev]", maxsplit=1)[0])
        assert profile_of(profile, "default")["aws_secret_access_key"] == "default-secret-not-ours"
        assert oct(profile.stat().st_mode & 0o777) == "0o600"
        assert stored.expires_at == pytest.approx(workspace.clock.now() + 900, abs=1.5)

    def test_the_session_is_reused_then_refreshed_when_expired(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """Inside its window nothing is asked; after expiry a new session replaces it."""
        user, role = role_user(moto_peer)
        profile = role_setup(workspace, moto_peer, user=user, role=role, test="never")
        run(workspace)
        first = profile_of(profile)["aws_session_token"]
        sts_calls = len(moto_peer.calls("sts"))

        workspace.clock.advance(300)
        [kept] = run(workspace)
        workspace.clock.advance(900)
        [renewed] = run(workspace)

        assert kept.outcome is Outcome.UNCHANGED
        assert renewed.event == "credential.refreshed"
        assert len(moto_peer.calls("sts")) == sts_calls + 1
        assert profile_of(profile)["aws_session_token"] != first

    def test_get_session_token_writes_a_profile_too(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """The aws_sts built-in: GetSessionToken's session in a new profile file."""
        user = moto_peer.new_user(policy=allow("sts:GetSessionToken"))
        workspace.recipe(
            "peer_sts",
            f"""\
            extends: aws_sts
            service: peer_sts
            version: 1
            base_url: {moto_peer.url}
            aws:
              sts:
                endpoint: {moto_peer.url}/
                duration_seconds: 900
            """,
        )
        profile = workspace.home / ".aws" / "credentials"
        workspace.credential(
            "sts",
            "peer_sts",
            "peer_sts/main",
            test="never",
            sinks=[{"type": "aws_profile", "path": str(profile), "profile": "session"}],
        )
        workspace.set_secret(
            "peer_sts/main",
            access_key_id=user.keys.access_key_id,
            secret_access_key=user.keys.secret_access_key.reveal(),
        )

        [result] = run(workspace)

        assert result.outcome is Outcome.OK, result.summary
        assert set(profile_of(profile, "session")) == {
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "x_security_token_expires",
        }
        assert oct(profile.parent.stat().st_mode & 0o777) == "0o700"


class TestRefusals:
    def test_a_deleted_key_needs_a_person_and_the_profile_is_untouched(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """InvalidClientTokenId: exit 1, `creds set`, marked; the file is byte-identical."""
        user, role = role_user(moto_peer)
        profile = role_setup(workspace, moto_peer, user=user, role=role)
        run(workspace)
        before = profile.read_bytes()
        moto_peer.deactivate(user)
        workspace.clock.advance(900)

        [result] = run(workspace)

        assert result.outcome is Outcome.NEEDS_HUMAN
        assert result.event == "credential.reauth_required"
        assert "InvalidClientTokenId" in result.summary
        assert result.details["hint"] == "store a working key: renewer creds set s3"
        assert profile.read_bytes() == before
        assert workspace.runtime("peer_s3/dev").needs_reauth

    def test_a_role_that_does_not_trust_the_key(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """AccessDenied is a policy problem: exit 1 with AWS's code, not a dead key."""
        user = moto_peer.new_user(policy=allow("sts:AssumeRole"))
        stranger = moto_peer.new_user()
        role = moto_peer.new_role(trusted=stranger, policy=allow("s3:ListAllMyBuckets"))
        role_setup(workspace, moto_peer, user=user, role=role)

        with pytest.raises(CredentialError) as caught:
            workspace.open("s3").ensure_fresh()

        assert not isinstance(caught.value, CredentialReauthRequired)
        assert "STS AssumeRole refused (AccessDenied" in caught.value.message
        assert "trusts it" in caught.value.hint

    def test_html_from_sts_stores_nothing(
        self, workspace: Workspace, moto_peer: MotoPeer, jwt_peer: JwtTokenPeer
    ) -> None:
        """A login page instead of XML: reported, nothing stored, no sink written."""
        user, role = role_user(moto_peer)
        jwt_peer.raw_answer = (200, "text/html", b"<html><body>sign in</body></html>")
        profile = role_setup(
            workspace, moto_peer, user=user, role=role, endpoint=jwt_peer.token_url
        )

        [result] = run(workspace)

        assert result.outcome is Outcome.NEEDS_HUMAN
        assert (
            "STS's answer is unusable: HTTP 200: not an STS answer (a <html> document)"
            in result.summary
        )
        assert not profile.exists()
        assert workspace.runtime("peer_s3/dev").access_token is None

    def test_sts_server_errors_are_temporary(
        self, workspace: Workspace, moto_peer: MotoPeer, jwt_peer: JwtTokenPeer
    ) -> None:
        """5xx on every attempt: exit 75 after the retries."""
        user, role = role_user(moto_peer)
        jwt_peer.fail_next = 10
        role_setup(workspace, moto_peer, user=user, role=role, endpoint=jwt_peer.token_url)

        with pytest.raises(ServiceUnavailable, match="s3: STS AssumeRole: HTTP 500"):
            workspace.open("s3").ensure_fresh()

        assert jwt_peer.requests == FAST.attempts

    def test_a_profile_file_botocore_cannot_read_is_left_alone(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """Two [dev] sections: refused, the file byte-identical."""
        user, role = role_user(moto_peer)
        profile = role_setup(workspace, moto_peer, user=user, role=role, test="never")
        profile.parent.mkdir(mode=0o700)
        profile.write_text("[dev]\nregion = a\n[dev]\nregion = b\n")
        before = profile.read_bytes()

        [result] = run(workspace)

        assert result.outcome is Outcome.NEEDS_HUMAN
        assert "profile [dev] appears 2 times" in result.summary
        assert profile.read_bytes() == before

    def test_a_symlinked_credentials_file_is_refused(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """Like every sink, a symlink is somebody's decision: not replaced."""
        user, role = role_user(moto_peer)
        profile = role_setup(workspace, moto_peer, user=user, role=role, test="never")
        profile.parent.mkdir(mode=0o700)
        real = workspace.home / "dotfiles-credentials"
        real.write_text(OTHER_PROFILES)
        profile.symlink_to(real)

        [result] = run(workspace)

        assert "is a symbolic link; refusing to replace it" in result.summary
        assert real.read_text() == OTHER_PROFILES

    def test_an_aws_profile_sink_on_a_non_aws_credential(
        self, workspace: Workspace, moto_peer: MotoPeer
    ) -> None:
        """The sink says what it needs instead of writing half a profile."""
        workspace.recipe(
            "plain",
            "service: plain\nversion: 1\nprimitive: static_key\nbase_url: http://127.0.0.1:9\n"
            "required_secrets: [{key: api_key}]\ninject: {header: {X-Key: '{{secret.api_key}}'}}\n",
        )
        profile = workspace.home / ".aws" / "credentials"
        workspace.credential(
            "plain",
            "plain",
            "plain/x",
            sinks=[{"type": "aws_profile", "path": str(profile), "profile": "dev"}],
        )
        workspace.set_secret("plain/x", api_key="k" * 20)

        [result] = run(workspace)

        assert "an aws_profile sink needs an AWS credential" in result.summary
        assert not profile.exists()
