"""A static rotation that registers each new webhook secret with GitHub (seed 001, issue 19).

The cast, all on 127.0.0.1: a local GitHub (``tests/peers/github_server.py``:
the webhook-config API and its signed pings), the receiving service
(``tests/webhook_receiver.py``: verifies ``X-Hub-Signature-256`` with the
secrets its keys file lists, written by the rotation's post-rotation hook),
and the real CLI. The webhook secret and the GitHub token live in the
encrypted local store, set with ``renewer creds set --stdin``.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from renewer.logging import configure
from renewer.rotation.signing import WebhookKind, github_signature
from renewer.run import Runtime, run_once
from tests import leakguard
from tests.integration.conftest import World
from tests.integration.test_rotation_static import stored
from tests.peers.github_server import HOOK_ADMIN, GitHubPeer, Hook, ServedGitHub
from tests.webhook_receiver import Receiver, running

HOUR = 3600
RECIPES = {
    "github_webhook_local.yaml": "service: github_webhook_local\nversion: 1\n"
    "extends: github_webhook\nbase_url: {url}\n",
    "github_local.yaml": "service: github_local\nversion: 1\nextends: github\nbase_url: {url}\n",
}
CONFIG = """\
recipes:
  dirs: [{recipes}]
credentials:
  - name: hooks
    recipe: github_webhook_local
    secret: github_webhook/main
  - name: gh
    recipe: github_local
    secret: github/main
rotations:
  - name: hooks-secret
    type: static
    credential: hooks
    grace: 1h
    webhook: {{url: {receiver}, kind: github}}
    hook:
      command: [{python}, -c, "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])",
                "{{manifest}}", {keys}]
      template: {template}
    register: {{credential: gh}}
"""
TEMPLATE = '{"accept": ["${current}", "${previous}", "${pending}"]}\n'


@dataclass
class Scene:
    world: World
    github: GitHubPeer
    receiver: Receiver
    old: str

    def github_secret(self) -> str:
        return self.github.secret_of("acme", "app", "42")

    def ping(self) -> int:
        """GitHub sends a ping signed with the secret it holds; the receiver's answer."""
        return self.github.deliver(self.github.hooks[("acme", "app", "42")], "ping", b"{}")

    def signed_with(self, secret: str) -> int:
        """A delivery GitHub signed earlier with *secret* (a retry in flight)."""
        body = b'{"action": "opened"}'
        headers = {"X-Hub-Signature-256": github_signature(secret.encode(), body)}
        return self.receiver.verdict(body, headers)

    def run_later(self, seconds: float) -> None:
        configure("json", environ={})
        when = time.time() + seconds
        results = run_once(self.world.config(), runtime=Runtime(wall_clock=lambda: when))
        assert all(r.outcome.exit_code == 0 for r in results), [r.summary for r in results]


@pytest.fixture
def scene(
    world: World, make_secret: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Scene]:
    keys = world.home / "receiver-keys.json"
    github = GitHubPeer()
    served = ServedGitHub(github)
    try:
        with running(Receiver(WebhookKind.GITHUB, keys_file=keys)) as receiver:
            old = make_secret("whsec")
            github.hooks[("acme", "app", "42")] = Hook(url=receiver.url, secret=old)
            keys.write_text(json.dumps({"accept": [old]}))
            recipes = world.home / "recipes"
            recipes.mkdir()
            for name, text in RECIPES.items():
                (recipes / name).write_text(text.format(url=github.url))
            template = world.home / "manifest.tmpl"
            template.write_text(TEMPLATE)
            world.extra = CONFIG.format(
                recipes=recipes,
                receiver=receiver.url,
                python=sys.executable,
                keys=keys,
                template=template,
            )
            world.write(world.mint_ours())
            token = github.add_token(HOOK_ADMIN)
            leakguard.remember(token)
            entry = {"secret": old, "owner": "acme", "repo": "app", "hook_id": "42"}
            for name, values in (("hooks", entry), ("gh", {"token": token})):
                monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(values)))
                assert world.cli("creds", "set", name, "--stdin").code == 0
            yield Scene(world, github, receiver, old)
    finally:
        served.stop()


class TestRegisterWithGitHub:
    def test_github_signs_with_the_new_secret_and_the_receiver_accepts_both_in_the_grace(
        self, scene: Scene
    ) -> None:
        """Receivers accept the new secret, then GitHub is told it (PATCH .../config), then the
        test webhook; in the grace GitHub's pings and older deliveries both verify; after it,
        only the new secret does."""
        rotated = scene.world.cli("rotate", "hooks-secret", "--now")

        assert rotated.code == 0, rotated.err
        new = stored(scene.world)["secret"]
        assert new != scene.old
        assert scene.github_secret() == new
        assert scene.ping() == 204, "GitHub's ping, signed with the new secret"
        assert scene.signed_with(scene.old) == 204, "a delivery signed before the switch"
        patches = [s for s in scene.github.seen if s.method == "PATCH"]
        assert patches and all(s.authorized for s in patches)
        assert all(new not in s.path for s in scene.github.seen), "the secret never in a URL"

        scene.run_later(2 * HOUR)

        assert scene.github_secret() == new
        assert scene.ping() == 204
        assert scene.signed_with(scene.old) == 401, "the old secret is withdrawn"
        assert set(stored(scene.world)) == {
            "secret",
            "secret.id",
            "owner",
            "repo",
            "hook_id",
            "_rotation_version",
        }

    def test_a_token_github_refuses_withdraws_the_new_secret_and_retries_the_withdrawal(
        self, scene: Scene
    ) -> None:
        """404 from GitHub: exit 1 naming the call; GitHub never changed, receivers keep the
        old secret; the withdrawal is repeated (as the token's fix arrives) until it lands."""
        token = next(iter(scene.github.tokens))
        scene.github.tokens[token] = frozenset()  # the token lost admin:repo_hook

        failed = scene.world.cli("rotate", "hooks-secret", "--now")

        assert failed.code == 1
        failure = failed.event("rotation.failed")
        assert "PATCH /repos/acme/app/hooks/42/config as gh answered 404" in failure["summary"]
        assert failure["see"] == "runbooks/rotation.md#rotation-hook-failed"
        assert scene.github_secret() == scene.old
        assert scene.ping() == 204
        status = scene.world.cli("rotation", "status")
        assert status.code == 1
        assert "stopped in phase green_discarding" in status.out

        scene.github.tokens[token] = frozenset({HOOK_ADMIN})
        again = scene.world.cli("rotate", "hooks-secret")

        assert again.code == 0, again.err
        assert again.event("rotation.green_discarded")
        assert stored(scene.world)["secret"] == scene.old
        assert json.loads(scene.receiver.keys_file.read_text())["accept"][0] == scene.old  # type: ignore[union-attr]
        assert scene.signed_with(scene.old) == 204
        final = scene.world.cli("rotation", "status")
        assert "the last cycle failed: registering the new key" in final.out
