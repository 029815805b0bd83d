"""Every ``sh google`` block of runbooks/credentials.md, as written, with a Google key.

The blocks about a Google service account need a ``google_calendar``
credential and a JWT-bearer token endpoint (tests/peers/jwt_token_server.py,
which verifies the assertion signed with the key); tests/cli's runbook harness
has OAuth2 only. The setup is tests/cli/test_creds_new_kinds.py's.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from renewer.core.outcome import ItemResult
from renewer.credentials.runner import run_credentials
from renewer.secretstore.base import Namespace, SecretRef
from tests.keys import EMAIL, KEY_ID, service_account_json
from tests.peers.jwt_token_server import JwtTokenPeer
from tests.runbooks.shell import ShellSession, harness_blocks, local_runner, run_blocks
from tests.workspace import FAST, Workspace

RUNBOOK = Path(__file__).resolve().parents[2] / "runbooks" / "credentials.md"
GROUPS = harness_blocks(RUNBOOK, "google")
SCENARIOS = ["google-not-a-key"]


def test_the_google_commands_have_blocks_and_scenarios() -> None:
    assert sorted(GROUPS) == SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_new_key_file_is_stored_as_the_runbook_says(
    scenario: str,
    workspace: Workspace,
    jwt_peer: JwtTokenPeer,
    rsa_key: rsa.RSAPrivateKey,
    tmp_path: Path,
) -> None:
    """The stored "key" was a user's OAuth client file: the run names the field and the
    cause; the person downloads a key and stores the file as it is; the next run works."""
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
    user_file = json.dumps({"type": "authorized_user", "client_id": "x", "client_secret": "y"})
    workspace.set_secret("gcal/work", service_account_json=user_file)
    [refused] = run(workspace)
    assert "service_account_json: a 'authorized_user' credential" in refused.summary
    downloads = workspace.home / "Downloads"
    downloads.mkdir()
    key_file = service_account_json(rsa_key)
    (downloads / "project-1234-abcdef.json").write_text(key_file)

    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
        "HOME": str(workspace.home),
        "LANG": "C.UTF-8",
        "RENEWER_CONFIG": str(workspace.config_path),
        "NAME": "cal",
    }
    session = ShellSession(local_runner(env, workspace.home), tmp_path / "runbook.vars")
    run_blocks(GROUPS[scenario], session)

    stored = workspace.store().read(SecretRef.parse("gcal/work"), Namespace.SECRET)
    assert stored == {"service_account_json": key_file}
    [result] = run(workspace)
    assert result.event == "credential.refreshed", result.summary


def run(workspace: Workspace) -> list[ItemResult]:
    return run_credentials(
        workspace.config(),
        now=workspace.clock.now,
        sleep=workspace.clock.sleep,
        rng=random.Random(3),
        policy=FAST,
    )
