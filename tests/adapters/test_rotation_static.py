"""Multi-key static secrets: signing, the test webhook, and full cycles against a local receiver.

The store is the in-memory TEST DOUBLE of the ``SecretStore`` protocol (the
credentials layer binds the real stores); the receiver is a real HTTP server
on 127.0.0.1 that verifies GitHub or Slack signatures.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from renewer.core.drift import Verdict
from renewer.core.secret import Secret
from renewer.errors import RotationBlocked, RotationHookFailed, ServiceUnavailable
from renewer.rotation import machine as m
from renewer.rotation import plan as p
from renewer.rotation.drive import drive
from renewer.rotation.hooks import CommandHook
from renewer.rotation.signing import (
    WebhookKind,
    github_signature,
    signed_headers,
    slack_signature,
    verify_github,
    verify_slack,
)
from renewer.rotation.targets.static import StaticSecretTarget, StoreConflict
from renewer.rotation.webhooks import WebhookCheck
from tests import leakguard
from tests.unit.rotation_fakes import Crash, InMemorySecretStoreDouble
from tests.webhook_receiver import Receiver, running

SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    b"collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F39770088"
    b"5554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447"
    b"fce8b6703c"
)
GRACE = 100


class TestSigning:
    def test_github_documented_example(self) -> None:
        """GitHub's docs: 'It's a Secret to Everybody' over 'Hello, World!'."""
        assert github_signature(b"It's a Secret to Everybody", b"Hello, World!") == (
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        )

    def test_slack_documented_example(self) -> None:
        """Slack's docs: v0 signature over v0:{timestamp}:{body}."""
        assert slack_signature(b"8f742231b10e8888abcd99yyyzzz85a5", 1531420618, SLACK_BODY) == (
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        )

    @pytest.mark.parametrize("kind", list(WebhookKind))
    def test_any_accepted_secret_verifies_and_no_other(self, kind: WebhookKind) -> None:
        """Grace period: old and new both verify; a stranger's does not."""
        now = 1_700_000_000
        headers = signed_headers(kind, b"new", b"{}", timestamp=now, delivery="d")

        def verify(keys: list[bytes]) -> bool:
            if kind is WebhookKind.GITHUB:
                return verify_github(keys, b"{}", headers)
            return verify_slack(keys, b"{}", headers, now=now + 10)

        assert verify([b"old", b"new"])
        assert verify([b"new"])
        assert not verify([b"old"])
        assert not verify([])

    def test_a_stale_slack_timestamp_is_refused(self) -> None:
        """Five minutes of skew at most: a replayed request fails."""
        headers = signed_headers(WebhookKind.SLACK, b"k", b"{}", timestamp=1000, delivery="d")
        assert verify_slack([b"k"], b"{}", headers, now=1000 + 300)
        assert not verify_slack([b"k"], b"{}", headers, now=1000 + 301)


@pytest.fixture(params=list(WebhookKind), ids=lambda kind: kind.value)
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    with running(Receiver(request.param)) as served:
        yield served


class TestWebhookCheck:
    def test_a_2xx_validates(self, receiver: Receiver, make_secret: Callable[[str], str]) -> None:
        """Signed with an accepted secret: ok."""
        value = make_secret("signing")
        receiver.accept(value)
        check = WebhookCheck(receiver.url, receiver.kind, rotation="hooks", now=time.time())
        assert check(Secret(value)).ok

    def test_a_401_is_a_failed_validation(
        self, receiver: Receiver, make_secret: Callable[[str], str]
    ) -> None:
        """The receiver does not know the new secret: validation fails, saying so."""
        receiver.accept(make_secret("old"))
        check = WebhookCheck(receiver.url, receiver.kind, rotation="hooks", now=time.time())
        verdict = check(Secret(make_secret("new")))
        assert not verdict.ok
        assert "answered 401" in verdict.explain()

    def test_no_receiver_is_temporary(self) -> None:
        """Nobody listening: exit 75, try again later (green is discarded on resume)."""
        check = WebhookCheck("http://127.0.0.1:9/hooks", WebhookKind.GITHUB, "hooks", now=0.0)
        with pytest.raises(ServiceUnavailable, match="no answer"):
            check(Secret("x" * 16))


def into_receiver(receiver: Receiver) -> Callable[[Mapping[str, Secret]], None]:
    """An in-process hook: the receiver accepts exactly the live slots."""

    def hook(values: Mapping[str, Secret]) -> None:
        receiver.accept(*sorted({value.reveal() for value in values.values()}))

    return hook


def target_for(
    store: InMemorySecretStoreDouble, receiver: Receiver, *, hook: object = None
) -> StaticSecretTarget:
    return StaticSecretTarget(
        store=store,
        check=WebhookCheck(receiver.url, receiver.kind, rotation="hooks", now=time.time()),
        hook=hook if hook is not None else into_receiver(receiver),  # type: ignore[arg-type]
    )


class Disk:
    def __init__(self) -> None:
        self.state = m.new_state("hooks", "static", now=0.0)

    def save(self, state: m.RotationState) -> None:
        self.state = state


def cycle(
    target: StaticSecretTarget,
    disk: Disk,
    *,
    now: float,
    forced: bool = False,
    checkpoint: Callable[[str], None] = lambda _: None,
) -> m.RotationState:
    drive(
        disk.state,
        target,
        persist=disk.save,
        now=now,
        grace=GRACE,
        due_at=lambda _: None,
        forced=forced,
        checkpoint=checkpoint,
    )
    return disk.state


def signs(receiver: Receiver, value: str) -> bool:
    return WebhookCheck(receiver.url, receiver.kind, "hooks", now=time.time())(Secret(value)).ok


class TestStaticRotation:
    def test_both_keys_live_in_the_grace_then_only_the_new_one(
        self, receiver: Receiver, make_secret: Callable[[str], str]
    ) -> None:
        """current + previous in the store while the receiver accepts both; afterwards only new."""
        old = make_secret("old")
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        receiver.accept(old)
        target = target_for(store, receiver)
        disk = Disk()

        state = cycle(target, disk, now=1000.0, forced=True)

        new = store.plain()["secret"]
        leakguard.remember(new)
        assert state.phase is m.Phase.GREEN_ACTIVE
        assert store.plain()["secret.previous"] == old
        assert "secret.pending" not in store.plain()
        assert signs(receiver, old) and signs(receiver, new)

        state = cycle(target, disk, now=1000.0 + GRACE)

        assert state.phase is m.Phase.BLUE_ACTIVE
        assert set(store.plain()) == {"secret", "secret.id"}
        assert signs(receiver, new)
        assert not signs(receiver, old)

    def test_a_receiver_that_rejects_the_new_key_fails_validation(
        self, receiver: Receiver, make_secret: Callable[[str], str]
    ) -> None:
        """The hook did not reach the receiver: green removed from the store, old key kept."""
        old = make_secret("old")
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        receiver.accept(old)
        target = target_for(store, receiver, hook=lambda values: None)
        disk = Disk()

        report = drive(
            disk.state,
            target,
            persist=disk.save,
            now=1.0,
            grace=GRACE,
            due_at=lambda _: None,
            forced=True,
        )

        assert "answered 401" in report.validation_failure
        assert store.plain() == {"secret": old, "secret.id": "k-old"}
        assert disk.state.last_result is m.LastResult.VALIDATION_FAILED
        assert signs(receiver, old)

    def test_a_value_written_before_renewer_still_gets_a_grace(
        self, receiver: Receiver, make_secret: Callable[[str], str]
    ) -> None:
        """No key id yet: it is labelled 'initial' and kept as previous for the grace."""
        old = make_secret("old")
        store = InMemorySecretStoreDouble({"secret": old})
        receiver.accept(old)
        disk = Disk()
        cycle(target_for(store, receiver), disk, now=1.0, forced=True)
        assert store.plain()["secret.previous"] == old
        assert store.plain()["secret.previous.id"] == "initial"
        assert signs(receiver, old)

    def test_a_concurrent_writer_makes_the_step_temporary_then_it_resumes(
        self, receiver: Receiver, make_secret: Callable[[str], str]
    ) -> None:
        """CAS lost: exit 75 with the state in GREEN_ISSUING; the next run cleans and retries."""
        old = make_secret("old")
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        receiver.accept(old)
        target = target_for(store, receiver)
        disk = Disk()
        store.interfere = True

        with pytest.raises(StoreConflict):
            cycle(target, disk, now=1.0, forced=True)
        assert disk.state.phase is m.Phase.GREEN_ISSUING

        resumed = cycle(target, disk, now=2.0, forced=True)

        assert resumed.phase is m.Phase.GREEN_ACTIVE
        leakguard.remember(store.plain()["secret"])
        assert signs(receiver, store.plain()["secret"])

    @pytest.mark.parametrize("crash", range(9))
    def test_a_crash_anywhere_leaves_a_current_key_the_receiver_accepts(
        self, receiver: Receiver, make_secret: Callable[[str], str], crash: int
    ) -> None:
        """Kill at checkpoint n, resume twice past the grace: one key, accepted, no pending."""
        old = make_secret("old")
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        receiver.accept(old)
        target = target_for(store, receiver)
        disk = Disk()
        seen: list[str] = []

        def checkpoint(point: str) -> None:
            seen.append(point)
            if len(seen) - 1 == crash:
                raise Crash(point)

        with contextlib.suppress(Crash):
            cycle(target, disk, now=1.0, forced=True, checkpoint=checkpoint)
        for now in (2.0, 2.0 + GRACE):
            cycle(target, disk, now=now)

        values = store.plain()
        leakguard.remember(values["secret"])
        assert set(values) == {"secret", "secret.id"}
        assert signs(receiver, values["secret"])
        assert not disk.state.in_flight

    def test_rollback_in_the_grace_puts_the_old_key_back(
        self, receiver: Receiver, make_secret: Callable[[str], str]
    ) -> None:
        """`rotate --rollback`: old current again, new removed, receiver back to old only."""
        old = make_secret("old")
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        receiver.accept(old)
        target = target_for(store, receiver)
        disk = Disk()
        cycle(target, disk, now=1.0, forced=True)
        new = store.plain()["secret"]
        leakguard.remember(new)

        drive(
            disk.state,
            target,
            persist=disk.save,
            now=2.0,
            grace=GRACE,
            due_at=lambda _: None,
            rollback=True,
        )

        assert store.plain() == {"secret": old, "secret.id": "k-old"}
        assert disk.state.last_result is m.LastResult.ROLLED_BACK
        assert signs(receiver, old) and not signs(receiver, new)

    def test_an_empty_store_is_not_rotated(self, receiver: Receiver) -> None:
        """No current value: the rotation refuses (the first value is the credentials layer's)."""
        target = target_for(InMemorySecretStoreDouble(), receiver)
        report = drive(
            Disk().state,
            target,
            persist=lambda _: None,
            now=1.0,
            grace=GRACE,
            due_at=lambda _: None,
            forced=True,
        )
        assert isinstance(report.stopped, p.Refuse)
        assert "no current value" in report.stopped.reason
        with pytest.raises(RotationBlocked):
            target.issue(blue="")


FLAKY_HOOK = """\
import pathlib, sys
manifest, keys_file, broken = sys.argv[1], sys.argv[2], sys.argv[3]
if pathlib.Path(broken).exists():
    raise SystemExit(3)
pathlib.Path(keys_file).write_text(pathlib.Path(manifest).read_text())
"""
HOOK_SCRIPT = """\
import json, pathlib, sys
manifest, keys_file, argv_file = sys.argv[1], sys.argv[2], sys.argv[3]
pathlib.Path(keys_file).write_text(pathlib.Path(manifest).read_text())
pathlib.Path(argv_file).write_text(json.dumps(sys.argv))
"""
TEMPLATE = '{"accept": ["${current}", "${previous}", "${pending}"]}\n'


class TestCommandHook:
    def test_the_seed_hook_applies_both_keys_from_a_rendered_manifest(
        self, tmp_path: Path, make_secret: Callable[[str], str]
    ) -> None:
        """`orchestrator apply -f {manifest}`: the receiver reads what the hook applied; the
        secrets travel in the 0600 manifest only, never in argv, and the manifest is removed."""
        keys_file, argv_file = tmp_path / "receiver-keys.json", tmp_path / "argv.json"
        script = tmp_path / "apply.py"
        script.write_text(HOOK_SCRIPT)
        old = make_secret("old")
        keys_file.write_text(json.dumps({"accept": [old]}))
        hook = CommandHook(
            argv=(sys.executable, str(script), "{manifest}", str(keys_file), str(argv_file)),
            template=TEMPLATE,
            state_dir=tmp_path / "state",
            name="hooks",
        )
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        with running(Receiver(WebhookKind.GITHUB, keys_file=keys_file)) as receiver:
            target = StaticSecretTarget(
                store=store,
                check=WebhookCheck(receiver.url, receiver.kind, "hooks", now=time.time()),
                hook=hook,
            )
            disk = Disk()
            cycle(target, disk, now=1.0, forced=True)
            new = store.plain()["secret"]
            leakguard.remember(new)
            assert signs(receiver, old) and signs(receiver, new)
            cycle(target, disk, now=1.0 + GRACE)
            assert signs(receiver, new) and not signs(receiver, old)
        argv_text = argv_file.read_text()
        assert old not in argv_text and new not in argv_text
        assert list((tmp_path / "state").iterdir()) == []

    def test_a_failing_hook_before_promotion_is_withdrawn_by_the_hook_itself(
        self, tmp_path: Path, make_secret: Callable[[str], str]
    ) -> None:
        """The hook fails applying the new key: it is a hook failure (not Vault's refusal), the
        pending key leaves the store, and the hook runs again to withdraw it from receivers —
        repeated at the next run until it succeeds."""
        keys_file, broken = tmp_path / "receiver-keys.json", tmp_path / "broken"
        script = tmp_path / "apply.py"
        script.write_text(FLAKY_HOOK)
        old = make_secret("old")
        keys_file.write_text(json.dumps({"accept": [old]}))
        broken.write_text("")
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        hook = CommandHook(
            argv=(sys.executable, str(script), "{manifest}", str(keys_file), str(broken)),
            template=TEMPLATE,
            state_dir=tmp_path / "state",
            name="hooks",
        )
        with running(Receiver(WebhookKind.GITHUB, keys_file=keys_file)) as receiver:
            target = StaticSecretTarget(
                store=store,
                check=WebhookCheck(receiver.url, receiver.kind, "hooks", now=time.time()),
                hook=hook,
            )
            disk = Disk()
            with pytest.raises(RotationHookFailed, match="post-rotation hook of hooks failed"):
                cycle(target, disk, now=1.0, forced=True)
            assert disk.state.phase is m.Phase.GREEN_DISCARDING
            assert disk.state.last_result is m.LastResult.HOOK_FAILED
            assert store.plain() == {"secret": old, "secret.id": "k-old"}

            broken.unlink()  # the hook is fixed
            report = drive(
                disk.state,
                target,
                persist=disk.save,
                now=2.0,
                grace=GRACE,
                due_at=lambda _: None,
            )

            assert report.did("rotation.green_discarded")
            assert report.final.phase is m.Phase.BLUE_ACTIVE
            assert json.loads(keys_file.read_text()) == {"accept": [old, "", ""]}
            assert signs(receiver, old)

    def test_a_hook_failing_at_validation_is_reported_as_a_hook_failure(
        self, make_secret: Callable[[str], str]
    ) -> None:
        """One failure, then the hook works: the cycle ends as hook_failed with its reason."""
        old = make_secret("old")
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        failures = [RotationHookFailed("the post-rotation hook of hooks failed: apply exited 3")]

        def hook(values: Mapping[str, Secret]) -> None:
            if failures:
                raise failures.pop()

        target = StaticSecretTarget(store=store, check=lambda _: Verdict(), hook=hook)
        report = drive(
            Disk().state,
            target,
            persist=lambda _: None,
            now=1.0,
            grace=GRACE,
            due_at=lambda _: None,
            forced=True,
        )
        assert report.hook_failure.endswith("apply exited 3")
        assert not report.issue_refusal
        assert report.final.last_result is m.LastResult.HOOK_FAILED
        assert store.plain() == {"secret": old, "secret.id": "k-old"}

    def test_a_final_hook_that_failed_is_run_again_before_the_cycle_completes(
        self, tmp_path: Path, make_secret: Callable[[str], str]
    ) -> None:
        """Issue 19 item 1: after the grace the hook (current only) exits 3; the fixed hook
        must run at the next run — before, the cycle completed and the receiver kept
        accepting the old key forever."""
        keys_file, broken = tmp_path / "receiver-keys.json", tmp_path / "broken"
        script = tmp_path / "apply.py"
        script.write_text(FLAKY_HOOK)
        old = make_secret("old")
        keys_file.write_text(json.dumps({"accept": [old]}))
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        hook = CommandHook(
            argv=(sys.executable, str(script), "{manifest}", str(keys_file), str(broken)),
            template=TEMPLATE,
            state_dir=tmp_path / "state",
            name="hooks",
        )
        with running(Receiver(WebhookKind.GITHUB, keys_file=keys_file)) as receiver:
            target = StaticSecretTarget(
                store=store,
                check=WebhookCheck(receiver.url, receiver.kind, "hooks", now=time.time()),
                hook=hook,
            )
            disk = Disk()
            cycle(target, disk, now=1.0, forced=True)
            new = store.plain()["secret"]
            leakguard.remember(new)
            broken.write_text("")

            with pytest.raises(RotationHookFailed):
                cycle(target, disk, now=1.0 + GRACE)
            assert disk.state.phase is m.Phase.BLUE_REVOKING
            assert signs(receiver, old), "the failed hook did not withdraw the old key"

            broken.unlink()
            final = cycle(target, disk, now=2.0 + GRACE)

            assert final.phase is m.Phase.BLUE_ACTIVE
            assert final.last_result is m.LastResult.COMPLETED
            assert signs(receiver, new)
            assert not signs(receiver, old), "the receiver still accepts the old key"

    def test_a_kill_after_the_final_write_still_applies_the_final_state(
        self, receiver: Receiver, make_secret: Callable[[str], str]
    ) -> None:
        """The store lost `previous` but the hook never ran: the next run applies it."""
        old = make_secret("old")
        store = InMemorySecretStoreDouble({"secret": old, "secret.id": "k-old"})
        receiver.accept(old)
        hook = into_receiver(receiver)
        target = target_for(store, receiver, hook=hook)
        disk = Disk()
        cycle(target, disk, now=1.0, forced=True)
        new = store.plain()["secret"]
        leakguard.remember(new)
        original = store.write

        def write_then_die(values: Mapping[str, Secret], *, cas: int) -> int:
            original(values, cas=cas)
            raise Crash("killed after the store write, before the hook")

        store.write = write_then_die  # type: ignore[method-assign]
        with contextlib.suppress(Crash):
            cycle(target, disk, now=1.0 + GRACE)
        store.write = original  # type: ignore[method-assign]
        assert signs(receiver, old) and "secret.previous" not in store.plain()

        cycle(target, disk, now=2.0 + GRACE)

        assert disk.state.last_result is m.LastResult.COMPLETED
        assert not signs(receiver, old)
