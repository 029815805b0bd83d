"""Secrets stay where they are declared: not in reprs, argv, environments or stray files.

* Every secret-holding type hides its value in ``repr``, ``str`` and
  f-strings (``Secret``, ``TokenFile``, ``AuthGrant``, ``RuntimeState``,
  ``CredentialState``, ``IssuedCertificate``, ``AwsKeys``, ``CertMaterial``,
  ``SecretIdGrant``, ``Green``, ``TokenAnswer``, ``Injection``, ``SinkContent``,
  ``FileFacts``).
* One full scenario (a heal, an OAuth2 refresh writing a file and an env
  sink, a Vault-token rotation kept in its grace, a webhook-secret rotation
  whose hook applies a manifest, metrics on): the credential hook and the
  rotation hook read their own ``/proc/self/cmdline`` and ``/proc/self/environ``;
  no secret is there. Then the home is walked: every file renewer created is
  0600 (the metrics textfile 0644, as documented), every directory 0700, and
  no secret value appears in any file that is not a declared secret location
  (token file and its ``.previous``, the credential's sinks, the receiver's
  keys file written by the hook). Encrypted store blobs are scanned too: no
  plaintext in them.

The suite-wide part (captured output, log records, journal fields) is
``tests/leakguard.py``; its own tests are in ``tests/unit/test_leakguard.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from renewer.core.approle import SecretIdGrant
from renewer.core.certs import IssuedCertificate
from renewer.core.model import AuthGrant
from renewer.core.secret import Secret
from renewer.credentials.sinks import SinkContent
from renewer.files import FileFacts
from renewer.primitives.aws import AwsKeys
from renewer.primitives.base import CredentialState, RuntimeState
from renewer.primitives.inject import Injection
from renewer.primitives.mtls_material import CertMaterial
from renewer.primitives.tokens import TokenAnswer
from renewer.rotation.signing import WebhookKind
from renewer.rotation.targets.base import Green
from renewer.secretstore import Stores
from renewer.secretstore.base import Namespace, SecretRef
from renewer.tokens.tokenfile import TokenFile
from tests import leakguard
from tests.integration.conftest import World
from tests.integration.rotating import previous_file
from tests.integration.test_rotation_static import TEMPLATE
from tests.integration.test_run_service_credentials import runtime, store
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.reliability import tally
from tests.webhook_receiver import Receiver, running
from tests.workspace import oauth_recipe


def holders(value: str) -> dict[str, object]:
    """One instance of every secret-holding type, holding *value*."""
    secret = Secret(value)
    return {
        "Secret": secret,
        "TokenFile": TokenFile(path=Path("/t"), token=secret),
        "AuthGrant": AuthGrant(secret, "acc", frozenset(), 60, True, True),
        "RuntimeState": RuntimeState(
            access_token=secret, refresh_token=secret, extra={"aws_secret_access_key": value}
        ),
        "CredentialState": CredentialState(
            "c",
            None,  # type: ignore[arg-type]
            {"api_key": secret},
            RuntimeState(access_token=secret),
        ),
        "IssuedCertificate": IssuedCertificate("CERT", secret, (), "01", 1),
        "AwsKeys": AwsKeys("AKIA", secret, secret, ""),
        "CertMaterial": CertMaterial("pki", "CERT", "", secret),
        "SecretIdGrant": SecretIdGrant(secret, "acc", 60, 0),
        "Green": Green("acc", secret),
        "TokenAnswer": TokenAnswer(access_token=value, refresh_token=value),
        "Injection": Injection(
            headers={"Authorization": f"Bearer {value}"}, basic_auth=(value, "")
        ),
        "SinkContent": SinkContent(
            Path("/s"), "file", value.encode(), files=(("k", value.encode()),)
        ),
        "FileFacts": FileFacts(content=value.encode(), mode=0o600, uid=0),
    }


@pytest.mark.floor(18)
@pytest.mark.parametrize("name", sorted(holders("x")))
def test_every_secret_holding_value_hides_it_in_repr_str_and_format(
    make_secret: Any, name: str
) -> None:
    value = make_secret("held")
    holder = holders(value)[name]
    for shown in (repr(holder), str(holder), f"{holder}", f"{holder!r}"):
        assert value not in shown, f"{name} shows its secret"
    tally.record("secrets/redacting-repr")


# --- one full scenario, then the hooks' view and a walk of the home ----------------------

DUMP = """\
import json, os, sys
def read(name):
    with open(f"/proc/self/{name}", "rb") as f:
        return f.read().decode("utf-8", "replace")
dump = {"cmdline": read("cmdline"), "environ": read("environ"), "argv": sys.argv}
with open(sys.argv[1], "a") as out:
    out.write(json.dumps(dump) + "\\n")
if len(sys.argv) > 3:  # the rotation hook also applies the manifest to the receiver
    with open(sys.argv[2]) as src, open(sys.argv[3], "w") as dst:
        dst.write(src.read())
    os.chmod(sys.argv[3], 0o600)
"""

STATIC_RECIPE = """\
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


@pytest.fixture
def receiver(world: World) -> Iterator[Receiver]:
    with running(Receiver(WebhookKind.GITHUB, keys_file=world.home / "receiver.json")) as served:
        yield served


def scenario_config(world: World, oauth: OAuthPeer, api: ApiPeer, receiver: Receiver) -> None:
    home = world.home
    recipes = home / "recipes"
    recipes.mkdir()
    (recipes / "peer_oauth.yaml").write_text(
        oauth_recipe(
            "peer_oauth",
            base_url=api.base_url,
            authorize_url=oauth.authorize_url,
            token_url=oauth.token_url,
        )
    )
    (recipes / "hooksvc.yaml").write_text(STATIC_RECIPE.format(url=receiver.url.rsplit("/", 1)[0]))
    (home / "dump.py").write_text(DUMP)
    (home / "manifest.tmpl").write_text(TEMPLATE)
    python, dump = sys.executable, home / "dump.py"
    world.extra = f"""\
recipes:
  dirs: [{recipes}]
metrics:
  textfile: {home}/metrics/renewer.prom
credentials:
  - name: oauth
    recipe: peer_oauth
    secret: peer_oauth/dev
    sinks:
      - {{type: file, path: {home}/oauth/token}}
      - {{type: env, path: {home}/oauth/env, vars: {{API_TOKEN: "{{{{runtime.access_token}}}}"}}}}
    hooks: [{{command: [{python}, {dump}, {home}/credential-hook.json]}}]
  - name: hooks
    recipe: hooksvc
    secret: hooksvc/main
rotations:
  - name: devvm-token
    type: vault-token
    token: devvm
    grace: 1h
  - name: hooks-secret
    type: static
    credential: hooks
    field: secret
    every: 30d
    grace: 1h
    webhook: {{url: {receiver.url}, kind: github}}
    hook:
      command: [{python}, {dump}, {home}/rotation-hook.json, "{{manifest}}", {home}/receiver.json]
      template: {home}/manifest.tmpl
"""
    world.write_config()


def seed_secrets(world: World, oauth: OAuthPeer, receiver: Receiver) -> None:
    client_secret = f"client-secret-{secrets.token_urlsafe(18)}"
    webhook = f"whsec-{secrets.token_urlsafe(18)}"
    leakguard.remember(client_secret, webhook)
    oauth.add_client("renewer-test", client_secret)
    token = oauth.issue("renewer-test")
    assert token.refresh_token is not None
    leakguard.remember(token.access_token, token.refresh_token)
    config = world.config()
    stores = Stores(config)
    local = stores.get(config.credentials.credential("oauth").store)
    local.update(
        SecretRef.parse("peer_oauth/dev"),
        Namespace.SECRET,
        lambda _: {"client_id": "renewer-test", "client_secret": client_secret},
    )
    fresh = RuntimeState(
        access_token=Secret(token.access_token),
        refresh_token=Secret(token.refresh_token),
        token_type="Bearer",
        issued_at=time.time(),
        expires_at=time.time() + 3600,
    )
    local.update(SecretRef.parse("peer_oauth/dev"), Namespace.RUNTIME, lambda _: fresh.to_record())
    local.update(SecretRef.parse("hooksvc/main"), Namespace.SECRET, lambda _: {"secret": webhook})
    receiver.keys_file.write_text(json.dumps({"accept": [webhook]}))  # type: ignore[union-attr]


def age_oauth(world: World) -> None:
    """The access token expired a second ago: the next run refreshes it."""

    def expired(record: dict[str, str] | None) -> dict[str, str]:
        assert record is not None
        return {**record, "expires_at": repr(time.time() - 1)}

    store(world).update(SecretRef.parse("peer_oauth/dev"), Namespace.RUNTIME, expired)


def learn_new_secrets(world: World) -> None:
    """Everything renewer obtained during the scenario is a secret for the scans too."""
    leakguard.remember(world.read())
    if previous_file(world).exists():
        leakguard.remember(previous_file(world).read_text())
    oauth_state = runtime(world, "peer_oauth/dev")
    for value in (oauth_state.access_token, oauth_state.refresh_token):
        if value is not None:
            leakguard.remember(value.reveal())
    config = world.config()
    record = Stores(config).get("local").read(SecretRef.parse("hooksvc/main"), Namespace.SECRET)
    assert record is not None
    leakguard.remember(*(v for k, v in record.items() if not k.endswith((".id", "version"))))


def tree(root: Path) -> set[Path]:
    return {Path(d, name) for d, dirs, files in os.walk(root) for name in [*dirs, *files]}


@pytest.mark.floor(4, 18)
def test_a_full_scenario_leaves_secrets_only_where_declared(
    world: World, oauth_peer: OAuthPeer, api_peer: ApiPeer, receiver: Receiver
) -> None:
    """Heal, refresh, two rotations: hooks see no secret; files private; no stray copies."""
    scenario_config(world, oauth_peer, api_peer, receiver)
    seed_secrets(world, oauth_peer, receiver)
    world.write(world.mint_ours())
    first = world.cli("run")  # our token known, sinks written, nothing due
    assert first.code == 0, first.err
    age_oauth(world)
    world.write(world.admin_clobber())
    before = tree(world.home)

    steps = [("run",), ("rotate", "devvm-token", "--now"), ("rotate", "hooks-secret", "--now")]
    for step in steps:
        result = world.cli(*step)
        assert result.code == 0, (step, result.err)
    for command in (("status", "--json"), ("creds", "list"), ("rotation", "status")):
        assert world.cli(*command).code in {0, 1}  # output scanned by the leak guard
    learn_new_secrets(world)
    values = leakguard.remembered()
    assert len(values) >= 8 and previous_file(world).exists()

    hooks_seen = _assert_hooks_saw_no_secret(world, values)
    created = tree(world.home) - before
    files = _assert_private(world, created)
    scanned = _assert_no_stray_copies(world, receiver, values)
    tally.record("secrets/hook-argv-environ", tries=hooks_seen)
    tally.record("secrets/created-files-0600-dirs-0700", tries=files)
    tally.record("secrets/home-scan-files", tries=scanned)


def _assert_hooks_saw_no_secret(world: World, values: frozenset[str]) -> int:
    seen = 0
    for name in ("credential-hook.json", "rotation-hook.json"):
        lines = (world.home / name).read_text().splitlines()
        assert lines, f"the {name} hook did not run"
        for line in lines:
            dump = json.loads(line)
            for part in ("cmdline", "environ"):
                if any(v in dump[part] for v in values):  # never print the value itself
                    pytest.fail(f"a secret reached the {name} hook's {part}")
            assert "VAULT_TOKEN=" not in dump["environ"]
            seen += 1
    return seen


DOCUMENTED_MODES = {"renewer.prom": 0o644}  # node_exporter reads the textfile


def _assert_private(world: World, created: set[Path]) -> int:
    outside = {world.home / "credential-hook.json", world.home / "rotation-hook.json"}
    checked = 0
    for path in sorted(created - outside):
        info = path.lstat()
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISLNK(info.st_mode):
            continue  # cert_dir's switch link has no mode of its own
        if stat.S_ISDIR(info.st_mode):
            assert mode == 0o700, f"{path} is a directory with mode {mode:o}"
        else:
            assert mode == DOCUMENTED_MODES.get(path.name, 0o600), f"{path} has mode {mode:o}"
        checked += 1
    return checked


def _assert_no_stray_copies(world: World, receiver: Receiver, values: frozenset[str]) -> int:
    declared = {
        world.sink,
        previous_file(world),
        world.home / "oauth" / "token",
        world.home / "oauth" / "env",
        receiver.keys_file,
    }
    scanned = 0
    for path in sorted(tree(world.home)):
        if path in declared or not path.is_file() or path.is_symlink():
            continue
        content = path.read_bytes()
        if any(v.encode() in content for v in values):  # never print the value itself
            pytest.fail(f"a secret value is written in {path}")
        scanned += 1
    assert scanned >= 10
    return scanned
