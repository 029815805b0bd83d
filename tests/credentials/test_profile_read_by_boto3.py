"""The AWS profile renewer writes, read by boto3 itself (issue 16, item 9).

renewer writes ``~/.aws/credentials`` [dev] from an STS AssumeRole session;
boto3 (botocore's own config loader, not renewer's parser) reads that
profile and calls moto's STS and S3, which check every signature and the
session token.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from renewer.core.outcome import Outcome
from tests.credentials.test_service_account_aws import OTHER_PROFILES, role_setup, role_user, run
from tests.peers.aws_server import MotoPeer
from tests.workspace import Workspace


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing but the profile file: no AWS_* keys, no config file, no instance metadata."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("aws_environment")
def test_boto3_uses_the_session_renewer_wrote(
    workspace: Workspace, moto_peer: MotoPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """get_caller_identity answers as the assumed role; S3 accepts the session."""
    user, role = role_user(moto_peer)
    profile = role_setup(workspace, moto_peer, user=user, role=role)
    profile.parent.mkdir(mode=0o700)
    profile.write_text(OTHER_PROFILES)
    [result] = run(workspace)
    assert result.outcome is Outcome.OK, result.summary
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(profile))

    session = boto3.session.Session(profile_name="dev", region_name="us-east-1")
    identity = session.client("sts", endpoint_url=moto_peer.url).get_caller_identity()
    buckets = session.client("s3", endpoint_url=moto_peer.url).list_buckets()

    role_name = role.rsplit("/", 1)[1]
    assert identity["Arn"].startswith(
        f"arn:aws:sts::{identity['Account']}:assumed-role/{role_name}/"
    )
    assert session.get_credentials().access_key != user.keys.access_key_id
    assert "Buckets" in buckets
    default = boto3.session.Session(profile_name="default").get_credentials()
    assert default is not None
    assert default.access_key == "AKIADEFAULTDEFAULT00"  # the hand-written profile still parses
