"""Every ``sh aws`` block of runbooks/credentials.md, as written, with the real AWS CLI.

The blocks of the AWS section that call ``aws`` (or read the profile file the
CLI reads) need an AWS: here moto's server (tests/peers/aws_server.py, with
authentication enforced), reached through ``AWS_ENDPOINT_URL``, the CLI's own
setting for another endpoint. tests/cli/test_runbook_credentials.py runs the
plain ``sh`` blocks and leaves these to this module.

Each scenario puts the workspace into the situation its section is written
for, with a real renewer run that ends the way the runbook says (the message
it quotes), and returns the runbook's variables (``$NAME``, ``$ROLE``) and
what the blocks must have shown. A block exits 0 and prints no secret.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from renewer.core.outcome import ItemResult, Outcome
from renewer.credentials.runner import run_credentials
from tests.credentials.test_service_account_aws import role_setup, role_user
from tests.peers.aws_server import ACCOUNT, REGION, MotoPeer, allow
from tests.runbooks.shell import ShellSession, harness_blocks, local_runner, run_blocks
from tests.workspace import FAST, Workspace

RUNBOOK = Path(__file__).resolve().parents[2] / "runbooks" / "credentials.md"
# What a scenario hands the blocks: the runbook's variables, and words their output must hold.
Prepared = tuple[dict[str, str], list[str]]
Scenario = Callable[[Workspace, MotoPeer], Prepared]


def run(workspace: Workspace) -> ItemResult:
    [result] = run_credentials(
        workspace.config(),
        now=workspace.clock.now,
        sleep=workspace.clock.sleep,
        rng=random.Random(5),
        policy=FAST,
    )
    return result


def refreshed(workspace: Workspace, moto: MotoPeer) -> Prepared:
    """A run got a role session into the dev profile."""
    user, role = role_user(moto)
    role_setup(workspace, moto, user=user, role=role)
    result = run(workspace)
    assert result.outcome is Outcome.OK, result.summary
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rpartition('/')[2]}/"
    return {}, [session]


def assume_denied(workspace: Workspace, moto: MotoPeer) -> Prepared:
    """The key works, but the role trusts another user: STS AssumeRole refused."""
    user = moto.new_user(policy=allow("sts:AssumeRole"))
    owner = moto.new_user()
    role = moto.new_role(trusted=owner, policy=allow("s3:ListAllMyBuckets"))
    profile = role_setup(workspace, moto, user=user, role=role)
    result = run(workspace)
    assert "STS AssumeRole refused (AccessDenied" in result.summary, result.summary
    # The person's own CLI identity (the default profile) may read IAM roles.
    inspector = moto.new_user(policy=allow("iam:GetRole"))
    profile.parent.mkdir(mode=0o700, exist_ok=True)
    profile.write_text(
        "[default]\n"
        f"aws_access_key_id = {inspector.keys.access_key_id}\n"
        f"aws_secret_access_key = {inspector.keys.secret_access_key.reveal()}\n"
    )
    trusted = f"arn:aws:iam::{ACCOUNT}:user/{owner.name}"
    return {"ROLE": role.rpartition("/")[2]}, [trusted, "sts:AssumeRole"]


def duplicate_profile(workspace: Workspace, moto: MotoPeer) -> Prepared:
    """Someone pasted a second [dev] section: the sink refuses the file."""
    user, role = role_user(moto)
    profile = role_setup(workspace, moto, user=user, role=role)
    profile.parent.mkdir(mode=0o700)
    profile.write_text("[default]\nregion = eu-west-1\n\n[dev]\nregion = eu-west-1\n\n[dev]\n")
    result = run(workspace)
    assert "profile [dev] appears 2 times" in result.summary, result.summary
    return {}, ["1:[default]", "4:[dev]", "7:[dev]"]


SCENARIOS: dict[str, Scenario] = {
    "aws-refreshed": refreshed,
    "aws-assume-denied": assume_denied,
    "aws-duplicate-profile": duplicate_profile,
}
GROUPS = harness_blocks(RUNBOOK, "aws")


def test_the_aws_commands_have_blocks_and_scenarios() -> None:
    """get-caller-identity, get-role, the profile's sections; each in a known situation."""
    assert sorted(GROUPS) == sorted(SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(GROUPS))
def test_aws_blocks_run_in_their_scenario(
    scenario: str, workspace: Workspace, moto_peer: MotoPeer, tmp_path: Path
) -> None:
    """Prepare the situation, then run its blocks as written, with `aws` the real CLI."""
    variables, shown = SCENARIOS[scenario](workspace, moto_peer)
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "HOME": str(workspace.home),
        "LANG": "C.UTF-8",
        "RENEWER_CONFIG": str(workspace.config_path),
        "NAME": "s3",
        "AWS_ENDPOINT_URL": moto_peer.url,
        "AWS_DEFAULT_REGION": REGION,
        **variables,
    }
    session = ShellSession(local_runner(env, workspace.home), tmp_path / "runbook.vars")
    output = run_blocks(GROUPS[scenario], session)
    missing = [words for words in shown if words not in output]
    assert missing == [], f"the blocks did not show {missing}:\n{output}"
