"""renewer run, step 4: per credential refresh → test → sinks → hooks, isolated."""

from __future__ import annotations

import json
import os
import random
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renewer.core.outcome import ItemResult, Outcome, exit_code
from renewer.credentials.runner import run_credentials
from renewer.primitives.base import RuntimeState
from renewer.secretstore.base import Namespace, SecretRef
from tests.doubles.kv_memory import InMemoryKV
from tests.peers.api_server import ApiPeer
from tests.peers.oauth_server import OAuthPeer
from tests.workspace import FAST, Workspace, oauth_recipe, static_recipe

Secrets = Callable[[str], str]
HOOK = """\
import json, os, sys
keys = [k for k in os.environ if k.startswith("RENEWER_")]
with open(sys.argv[1], "a") as out:
    out.write(json.dumps({"argv": sys.argv, "env": {k: os.environ[k] for k in keys},
                          "all_env": dict(os.environ)}) + "\\n")
sys.exit(int(os.environ.get("HOOK_EXIT", "0")))
"""


def run(workspace: Workspace, **kwargs: Any) -> list[ItemResult]:
    return run_credentials(
        workspace.config(),
        now=workspace.clock.now,
        sleep=workspace.clock.sleep,
        rng=random.Random(3),
        policy=FAST,
        **kwargs,
    )


def hook_script(workspace: Workspace) -> tuple[list[str], Path]:
    script = workspace.home / "hook.py"
    script.write_text(HOOK)
    log = workspace.home / "hook.log"
    return [sys.executable, str(script), str(log)], log


def hook_calls(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def static_setup(
    workspace: Workspace, api_peer: ApiPeer, key: str, **fields: Any
) -> dict[str, Path]:
    api_peer.keys.add(key)
    workspace.recipe(
        "peerapi",
        static_recipe(
            "peerapi",
            api_peer.base_url,
            inject='header:\n  Authorization: "Bearer {{secret.api_key}}"\n',
        ),
    )
    paths = {"file": workspace.home / "out" / "token", "env": workspace.home / "out" / "api.env"}
    fields.setdefault(
        "sinks",
        [
            {"type": "file", "path": str(paths["file"])},
            {"type": "env", "path": str(paths["env"]), "vars": {"API_KEY": "{{secret.api_key}}"}},
        ],
    )
    workspace.credential("api", "peerapi", "peerapi/main", **fields)
    workspace.set_secret("peerapi/main", api_key=key)
    return paths


def _alive(pid: int) -> bool:
    """Whether *pid* still runs; a killed orphan is reaped by init asynchronously (≤ 2 s)."""
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
        threading.Event().wait(0.01)
    return True


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestStaticKeyRun:
    def test_first_run_tests_then_writes_sinks_and_runs_hooks(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A new key: tested, both sinks written 0600, the hook told where they are."""
        key = make_secret("key")
        argv, log = hook_script(workspace)
        paths = static_setup(workspace, api_peer, key, hooks=[{"command": argv}])

        [result] = run(workspace)

        assert (result.event, result.outcome) == ("sink.written", Outcome.OK)
        assert result.summary == "api: wrote 2 sink(s), test passed, ran 1 hook(s)."
        assert paths["file"].read_text() == key
        assert paths["env"].read_text().splitlines()[1] == f"API_KEY={key}"
        assert mode(paths["file"]) == mode(paths["env"]) == 0o600
        [call] = hook_calls(log)
        given = {
            "RENEWER_CREDENTIAL": "api",
            "RENEWER_SINKS": f"{paths['file']}:{paths['env']}",
            "RENEWER_SINK_0": str(paths["file"]),
            "RENEWER_SINK_1": str(paths["env"]),
        }
        # What renewer gives the hook; other RENEWER_* of the caller may pass through.
        assert {name: call["env"].get(name) for name in given} == given
        assert sorted(name for name in call["env"] if name.startswith("RENEWER_SINK_")) == [
            "RENEWER_SINK_0",
            "RENEWER_SINK_1",
        ]
        assert key not in json.dumps(call)

    def test_second_run_changes_nothing(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Same key: no test call, no write (same inode), no hook."""
        argv, log = hook_script(workspace)
        paths = static_setup(workspace, api_peer, make_secret("key"), hooks=[{"command": argv}])
        run(workspace)
        inode = paths["file"].stat().st_ino
        calls = len(api_peer.seen)

        [result] = run(workspace)

        assert (result.event, result.outcome) == ("credential.unchanged", Outcome.UNCHANGED)
        assert paths["file"].stat().st_ino == inode
        assert len(api_peer.seen) == calls
        assert len(hook_calls(log)) == 1

    def test_test_always_runs_even_when_unchanged(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """test: always → credential.tested on a quiet run."""
        static_setup(workspace, api_peer, make_secret("key"), test="always")
        run(workspace)

        [result] = run(workspace)

        assert (result.event, result.outcome) == ("credential.tested", Outcome.OK)

    def test_failed_test_writes_no_sink(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A key the service refuses is not propagated to the sinks."""
        paths = static_setup(workspace, api_peer, make_secret("key"))
        api_peer.keys.clear()

        [result] = run(workspace)

        assert (result.event, result.outcome) == ("credential.test_failed", Outcome.NEEDS_HUMAN)
        assert "expected HTTP 200, got HTTP 401" in result.summary
        assert "no sink was written" in result.summary
        assert not paths["file"].exists()

    def test_loosened_sink_mode_is_repaired(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Same content but mode 0644: rewritten 0600."""
        paths = static_setup(workspace, api_peer, make_secret("key"), test="never")
        run(workspace)
        paths["file"].chmod(0o644)

        [result] = run(workspace)

        assert result.event == "sink.written"
        assert mode(paths["file"]) == 0o600

    def test_symlinked_sink_is_refused(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A sink that is a symlink is not replaced behind the person who made it."""
        paths = static_setup(workspace, api_peer, make_secret("key"), test="never")
        paths["file"].parent.mkdir(parents=True)
        target = workspace.home / "elsewhere"
        target.write_text("theirs")
        paths["file"].symlink_to(target)

        [result] = run(workspace)

        assert result.outcome is Outcome.NEEDS_HUMAN
        assert "is a symbolic link; refusing to replace it" in result.summary
        assert target.read_text() == "theirs"

    def test_env_value_with_a_quote_is_refused(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A value no env-file reader agrees on is refused, and not quoted in the message."""
        key = make_secret("it's")
        paths = static_setup(workspace, api_peer, key, test="never")

        [result] = run(workspace)

        assert "cannot write API_KEY" in result.summary
        assert key not in result.summary
        assert not paths["env"].exists()

    def test_env_value_with_spaces_is_single_quoted(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Spaces or '$' get single quotes, so `set -a; . file` reads the value back."""
        key = make_secret("with space $HOME")
        paths = static_setup(workspace, api_peer, key, test="never")

        run(workspace)

        assert paths["env"].read_text().splitlines()[1] == f"API_KEY='{key}'"


class TestHooks:
    def test_failing_hook_is_reported_after_the_sinks_were_written(
        self,
        workspace: Workspace,
        api_peer: ApiPeer,
        make_secret: Secrets,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Exit 3: hook.failed, exit 1, and the message says the sinks were written."""
        monkeypatch.setenv("HOOK_EXIT", "3")
        argv, _log = hook_script(workspace)
        paths = static_setup(workspace, api_peer, make_secret("key"), hooks=[{"command": argv}])

        results = run(workspace)

        [result] = results
        assert (result.event, result.outcome) == ("hook.failed", Outcome.NEEDS_HUMAN)
        assert "exited with status 3; the sinks were written" in result.summary
        assert paths["file"].exists()
        assert exit_code(results) == 1

    def test_failed_hook_is_retried_by_the_next_run(
        self,
        workspace: Workspace,
        api_peer: ApiPeer,
        make_secret: Secrets,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The sinks will not change again by themselves, so a failed hook stays pending."""
        monkeypatch.setenv("HOOK_EXIT", "1")
        argv, log = hook_script(workspace)
        static_setup(workspace, api_peer, make_secret("key"), hooks=[{"command": argv}])
        run(workspace)
        monkeypatch.setenv("HOOK_EXIT", "0")

        [retried] = run(workspace)
        [quiet] = run(workspace)

        assert (retried.event, retried.outcome) == ("hook.ran", Outcome.OK)
        assert (quiet.event, quiet.outcome) == ("credential.unchanged", Outcome.UNCHANGED)
        assert len(hook_calls(log)) == 2

    def test_vault_token_is_not_passed_to_hooks(
        self,
        workspace: Workspace,
        api_peer: ApiPeer,
        make_secret: Secrets,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The hook does not inherit VAULT_TOKEN from whoever ran renewer."""
        monkeypatch.setenv("VAULT_TOKEN", make_secret("hvs"))
        argv, log = hook_script(workspace)
        static_setup(workspace, api_peer, make_secret("key"), hooks=[{"command": argv}])

        run(workspace)

        assert "VAULT_TOKEN" not in hook_calls(log)[0]["all_env"]

    def test_timed_out_hook_is_killed_with_its_children(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """The whole process group goes, the grandchild included."""
        pid_file = workspace.home / "child.pid"
        command = f"sleep 60 & echo $! > {pid_file}; wait"
        static_setup(
            workspace,
            api_peer,
            make_secret("key"),
            hooks=[{"command": command, "shell": True, "timeout": 1}],
        )

        [result] = run(workspace)

        assert "timed out after 1s and was killed" in result.summary
        assert not _alive(int(pid_file.read_text()))

    def test_missing_hook_command_is_reported(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A typo in the command path is a hook failure, not a crash."""
        static_setup(
            workspace, api_peer, make_secret("key"), hooks=[{"command": ["/nonexistent/hook"]}]
        )

        [result] = run(workspace)

        assert result.event == "hook.failed"
        assert "could not start" in result.summary


class TestOAuthRun:
    def setup_oauth(
        self,
        workspace: Workspace,
        oauth_peer: OAuthPeer,
        api_peer: ApiPeer,
        make_secret: Secrets,
        **fields: Any,
    ) -> Path:
        secret = make_secret("client-secret")
        oauth_peer.add_client("renewer-test", secret)
        workspace.recipe(
            "idp",
            oauth_recipe(
                "idp",
                base_url=api_peer.base_url,
                authorize_url=oauth_peer.authorize_url,
                token_url=oauth_peer.token_url,
            ),
        )
        sink = workspace.home / "idp.token"
        workspace.credential(
            "idp", "idp", "idp/main", sinks=[{"type": "file", "path": str(sink)}], **fields
        )
        workspace.set_secret("idp/main", client_id="renewer-test", client_secret=secret)
        token = oauth_peer.issue("renewer-test")
        workspace.login_state("idp/main", token.access_token, token.refresh_token)
        return sink

    def test_due_credential_is_refreshed_tested_and_written(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """The default sink value of oauth2 is the new access token."""
        sink = self.setup_oauth(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)

        [result] = run(workspace)

        new = workspace.runtime("idp/main").access_token
        assert new is not None
        assert (result.event, result.outcome) == ("credential.refreshed", Outcome.OK)
        assert result.summary == "idp: refreshed, valid for 1h, test passed."
        assert sink.read_text() == new.reveal()
        assert result.details["refreshed"] is True

    def test_revoked_access_token_is_replaced_after_a_401(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """Not due by time, but the API says 401: one forced refresh, then the test passes."""
        self.setup_oauth(workspace, oauth_peer, api_peer, make_secret, test="always")
        oauth_peer.tokens[-1].access_token = "revoked-by-the-service"  # the refresh token stays

        [result] = run(workspace)

        assert result.event == "credential.refreshed"
        assert oauth_peer.refresh_count == 1

    def test_invalid_grant_is_reauth_required(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """exit 1, and the hint is the exact login command."""
        sink = self.setup_oauth(workspace, oauth_peer, api_peer, make_secret)
        oauth_peer.invalid_grant = True
        workspace.clock.advance(3000)

        results = run(workspace)

        [result] = results
        assert (result.event, result.outcome) == ("credential.reauth_required", Outcome.NEEDS_HUMAN)
        assert result.details["hint"] == "renewer auth login idp"
        assert result.details["see"] == "runbooks/credentials.md#credential-reauth"
        assert exit_code(results) == 1
        assert not sink.exists()

    def test_unreachable_token_endpoint_is_temporary(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """500s all the way: exit 75 for this item."""
        self.setup_oauth(workspace, oauth_peer, api_peer, make_secret)
        oauth_peer.fail_next = 100
        workspace.clock.advance(3000)

        results = run(workspace)

        assert results[0].outcome is Outcome.TEMPORARY
        assert exit_code(results) == 75

    def test_dry_run_contacts_and_writes_nothing(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """--dry-run says it would refresh; no token request, no sink, no state change."""
        sink = self.setup_oauth(workspace, oauth_peer, api_peer, make_secret)
        workspace.clock.advance(3000)
        before = workspace.store().path(SecretRef.parse("idp/main"), Namespace.RUNTIME).read_bytes()

        [result] = run(workspace, dry_run=True)

        assert result.summary == "idp: dry run: would refresh (window)."
        assert result.details["dry_run"] is True
        assert oauth_peer.token_requests.total() == 0
        assert not sink.exists()
        assert (
            workspace.store().path(SecretRef.parse("idp/main"), Namespace.RUNTIME).read_bytes()
            == before
        )


class TestIsolation:
    def test_one_broken_item_does_not_stop_the_others(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """A broken recipe (78), a missing secret (1) and a good one: all three reported."""
        paths = static_setup(workspace, api_peer, make_secret("key"), test="never")
        workspace.recipe("broken", "service: broken\nversion: [\n")
        workspace.credential("bad-recipe", "broken", "broken/x")
        workspace.credential("no-secret", "peerapi", "peerapi/other")

        results = run(workspace)

        by_name = {result.name: result for result in results}
        assert by_name["api"].outcome is Outcome.OK
        assert (by_name["bad-recipe"].event, by_name["bad-recipe"].outcome) == (
            "credential.failed",
            Outcome.CONFIG,
        )
        assert "invalid YAML" in by_name["bad-recipe"].summary
        assert by_name["no-secret"].details["hint"] == "renewer creds set no-secret"
        assert exit_code(results) == 78
        assert paths["file"].exists()

    def test_only_limits_the_run(
        self, workspace: Workspace, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """--only NAME processes that credential alone."""
        static_setup(workspace, api_peer, make_secret("key"), test="never")
        workspace.credential("no-secret", "peerapi", "peerapi/other")

        assert [result.name for result in run(workspace, only={"api"})] == ["api"]

    def test_a_built_in_service_account_without_a_key_asks_for_one(
        self, workspace: Workspace
    ) -> None:
        """google_calendar runs now; with nothing stored it needs `creds set`, nothing else."""
        workspace.credential("cal", "google_calendar", "google_calendar/work")

        [result] = run(workspace)

        assert result.outcome is Outcome.NEEDS_HUMAN
        assert result.details["hint"] == "renewer creds set cal"


class TestVaultStore:
    def test_run_reads_and_writes_through_the_kv_backend(
        self, workspace: Workspace, oauth_peer: OAuthPeer, api_peer: ApiPeer, make_secret: Secrets
    ) -> None:
        """store: vault goes through the KV backend factory with the configured token sink."""
        kv = InMemoryKV()
        seen: list[tuple[str, str]] = []

        def factory(config: object, mount: str, token_sink: str) -> InMemoryKV:
            seen.append((mount, token_sink))
            return kv

        secret = make_secret("client-secret")
        oauth_peer.add_client("renewer-test", secret)
        workspace.recipe(
            "idp",
            oauth_recipe(
                "idp",
                base_url=api_peer.base_url,
                authorize_url=oauth_peer.authorize_url,
                token_url=oauth_peer.token_url,
            ),
        )
        workspace.extra = {
            "tokens": [
                {
                    "name": "devvm",
                    "path": str(workspace.home / ".vault-token"),
                    "expect": {"display_name": "token-devvm", "policies": ["default"]},
                    "mint": {"display_name": "devvm", "policies": ["default"], "period": "768h"},
                }
            ],
        }
        workspace.credential("idp", "idp", "idp/main", store="vault")
        token = oauth_peer.issue("renewer-test")
        kv.write(
            "renewer/secret/idp/main", {"client_id": "renewer-test", "client_secret": secret}, cas=0
        )
        kv.write(
            "renewer/runtime/idp/main",
            RuntimeState.from_record(
                {
                    "access_token": token.access_token,
                    "refresh_token": token.refresh_token or "",
                    "issued_at": repr(workspace.clock.now()),
                    "expires_at": repr(workspace.clock.now() + 60),
                }
            ).to_record(),
            cas=0,
        )

        workspace.clock.advance(50)

        [result] = run(workspace, kv_backend=factory)

        assert result.event == "credential.refreshed"
        assert seen == [("secret", "devvm")]
        data, version = kv.read("renewer/runtime/idp/main") or ({}, 0)
        assert version == 2
        assert data["access_token"] != token.access_token
