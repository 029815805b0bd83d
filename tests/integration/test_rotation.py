"""Blue/green rotation against the Vault peer: full cycles, crashes, failures, rollback.

Two clocks: renewer's wall clock is passed in (``run_at``) for schedules and
grace periods; the dev server's virtual clock is advanced with it where
Vault TTLs matter. Nothing sleeps.
"""

from __future__ import annotations

import json
import stat
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from renewer.rotation.store import RotationStore
from tests import leakguard
from tests.integration.conftest import ADMIN, SOPS, World, finish
from tests.integration.rotating import DAY, HOUR, Rotating, previous_file

TOKYO = ZoneInfo("Asia/Tokyo")
SATURDAY = datetime(2026, 3, 7, 12, 0, tzinfo=TOKYO).timestamp()
SUNDAY_2AM = datetime(2026, 3, 8, 2, 0, tzinfo=TOKYO).timestamp()


@pytest.fixture
def rot(world: World) -> Rotating:
    return Rotating(world)


class TestTokenRotationCycle:
    def test_a_weekly_tokyo_rotation_across_runs_keeps_blue_through_its_grace(
        self, rot: Rotating
    ) -> None:
        """Sunday 02:00 JST: green minted with blue, validated, swapped in; blue lives 24 h,
        then is revoked by accessor; every run renews whichever token is in the file."""
        world = rot.token_rotation(schedule='schedule: "0 2 * * 0"\n    timezone: Asia/Tokyo').world
        blue = world.mint_ours()
        world.write(blue)

        first = rot.run_at(SATURDAY)
        assert first["rotation/devvm-token"].event == "rotation.unchanged"
        assert first["rotation/devvm-token"].details["next_due_at"] == "2026-03-08T02:00:00+09:00"
        assert world.read() == blue

        rot.advance(SUNDAY_2AM + 300 - SATURDAY)
        second = rot.run_at(SUNDAY_2AM + 300)
        rotated = second["rotation/devvm-token"]
        green = world.read()
        leakguard.remember(green)
        assert rotated.event == "rotation.rotated", rotated.summary
        assert green != blue
        green_info = world.lookup(green)
        assert green_info is not None
        assert (green_info["display_name"], green_info["period"], green_info["orphan"]) == (
            world.ours,
            2_764_800,
            True,
        )
        assert green_info["meta"]["renewer_rotation"] == "devvm-token"
        assert world.lookup(blue) is not None, "blue stays valid through its grace"
        assert sorted(world.ours_alive()) == sorted([rot.accessor_of(blue), green_info["accessor"]])
        assert previous_file(world).read_text() == blue
        assert stat.S_IMODE(previous_file(world).stat().st_mode) == 0o600
        assert rot.state()["phase"] == "green_active"

        rot.advance(12 * HOUR)
        third = rot.run_at(SUNDAY_2AM + 300 + 12 * HOUR)
        assert third["token/devvm"].event == "token.renewed"
        assert third["rotation/devvm-token"].event == "rotation.unchanged"
        assert world.lookup(blue) is not None, "sweeps never revoke a held blue"

        rot.advance(13 * HOUR)
        if world.vault.controls is not None:
            world.vault.controls.reset_counters()
        fourth = rot.run_at(SUNDAY_2AM + 300 + 25 * HOUR)
        completed = fourth["rotation/devvm-token"]
        assert completed.event == "rotation.completed", completed.summary
        assert world.lookup(blue) is None
        assert world.read() == green
        assert world.ours_alive() == [green_info["accessor"]]
        assert not previous_file(world).exists()
        if world.vault.controls is not None:
            assert world.vault.controls.counters().get("auth/token/revoke-accessor") == 1

        fifth = rot.run_at(SUNDAY_2AM + 300 + 26 * HOUR)
        assert fifth["rotation/devvm-token"].details["next_due_at"] == "2026-03-15T02:00:00+09:00"
        state = rot.state()
        assert (state["phase"], state["cycles"], state["last_result"]) == (
            "blue_active",
            1,
            "completed",
        )
        assert state["blue"] == green_info["accessor"]

    def test_rotate_now_then_a_run_after_the_grace_leaves_one_token(self, rot: Rotating) -> None:
        """`renewer rotate NAME --now`: both valid in the grace, then only the new one."""
        world = rot.token_rotation(grace="1h").world
        blue = world.mint_ours()
        world.write(blue)

        result = rot.cli("rotate", "devvm-token", "--now")

        assert result.code == 0, result.err
        rotated = result.event("rotation.rotated")
        assert "was revoked" not in rotated["summary"]
        assert f"the old token {rot.accessor_of(blue)} stays valid until" in rotated["summary"]
        green = world.read()
        leakguard.remember(green)
        assert green != blue and world.lookup(blue) is not None
        assert result.event("rotation.report")["rotated"] == "devvm-token"

        rot.advance(2 * HOUR)
        done = rot.run_at(time.time() + 2 * HOUR)["rotation/devvm-token"]

        assert done.event == "rotation.completed", done.summary
        assert done.summary.endswith(f"{rot.accessor_of(green)} is the only one")
        assert world.lookup(blue) is None
        assert world.ours_alive() == [rot.accessor_of(green)]

    def test_grace_zero_is_refused_with_the_line(self, rot: Rotating) -> None:
        """`grace: 0s` defeats blue/green: exit 78 naming the key and a sensible value."""
        rot.token_rotation(grace="0s").world.write(rot.world.mint_ours())
        result = rot.cli("check")
        assert result.code == 78
        assert "rotations[0].grace: must be more than 0" in result.err

    def test_dry_run_prints_the_next_step_and_changes_nothing(self, rot: Rotating) -> None:
        """No state file, no mint, the file untouched."""
        world = rot.token_rotation().world
        blue = world.mint_ours()
        world.write(blue)

        result = rot.cli("rotate", "devvm-token", "--now", "--dry-run")

        assert result.code == 0
        plan = result.event("rotation.plan")
        assert "would check the current token" in plan["summary"]
        assert "still works, then issue a new one" in plan["summary"]
        assert world.read() == blue
        assert len(world.ours_alive()) == 1
        assert not (world.state / "rotation").exists()

    def test_not_due_without_now_changes_nothing(self, rot: Rotating) -> None:
        """A rotation by hand only is never due by itself."""
        world = rot.token_rotation().world
        blue = world.mint_ours()
        world.write(blue)
        result = rot.cli("rotate", "devvm-token")
        assert result.code == 0
        unchanged = result.event("rotation.unchanged")
        assert "never (by hand only" in unchanged["summary"]
        assert world.read() == blue


class TestTokenRotationFailures:
    def test_validation_failure_revokes_green_keeps_blue_and_exits_1(self, rot: Rotating) -> None:
        """A failing check command: green revoked, blue intact and in the file, an alert."""
        check = (
            f'    check: ["{sys.executable}", "-c", "raise SystemExit(3)", "{{credential_file}}"]\n'
        )
        world = rot.token_rotation(extra=check).world
        blue = world.mint_ours()
        world.write(blue)

        result = rot.cli("rotate", "devvm-token", "--now")

        assert result.code == 1
        failed = result.event("rotation.validation_failed")
        assert "check command failed" in failed["summary"]
        assert "it was withdrawn" in failed["summary"]
        assert failed["see"] == "runbooks/rotation.md#rotation-validation-failed"
        assert world.read() == blue
        assert world.ours_alive() == [rot.accessor_of(blue)]
        state = rot.state()
        assert (state["phase"], state["last_result"]) == ("blue_active", "validation_failed")

        again = rot.cli("run")
        assert again.code == 0, "a failed cycle is not retried on every run"
        unchanged = again.event("rotation.unchanged")
        assert unchanged["outcome"] == "WARNING"
        assert "the last cycle failed" in unchanged["summary"]

    def test_an_unhealthy_sink_is_left_to_the_heal(self, rot: Rotating) -> None:
        """A weak clobber: DRIFT from the token step, the rotation skipped, nothing minted."""
        world = rot.token_rotation().world
        world.write(world.mint_ours())
        weak = world.weak_clobber()
        world.write(weak)

        result = rot.cli("rotate", "devvm-token", "--now")

        assert result.code == 0
        skipped = result.event("rotation.skipped")
        assert "the sink is not healthy (drift" in skipped["summary"]
        assert world.read() == weak
        assert len(world.ours_alive()) == 1

    def test_a_damaged_state_file_stops_the_rotation_not_the_run(self, rot: Rotating) -> None:
        """Exit 1 naming the file and the runbook; the token is still renewed; file kept."""
        world = rot.token_rotation().world
        world.write(world.mint_ours())
        store = RotationStore(world.state)
        store.directory.mkdir(parents=True)
        store.path("devvm-token").write_text('{"version": 1, "phase": "purple"}')

        result = rot.cli("run")

        assert result.code == 1
        assert result.event("token.renewed")
        failed = result.event("rotation.failed")
        assert "cannot read the state of rotation 'devvm-token'" in failed["summary"]
        assert failed["see"] == "runbooks/rotation.md#rotation-state-invalid"
        assert store.path("devvm-token").read_text() == '{"version": 1, "phase": "purple"}'


class TestRollback:
    def test_rollback_during_the_grace_restores_blue_and_revokes_green(self, rot: Rotating) -> None:
        """`rotate --rollback`: blue back in the file, green revoked, one token of ours."""
        world = rot.token_rotation().world
        blue = world.mint_ours()
        world.write(blue)
        assert rot.cli("rotate", "devvm-token", "--now").code == 0
        green = world.read()
        leakguard.remember(green)

        result = rot.cli("rotate", "devvm-token", "--rollback")

        assert result.code == 0, result.err
        assert result.event("rotation.rolled_back")
        assert world.read() == blue
        assert world.lookup(green) is None
        assert world.ours_alive() == [rot.accessor_of(blue)]
        assert not previous_file(world).exists()
        assert rot.state()["last_result"] == "rolled_back"
        assert rot.cli("run").code == 0
        assert world.ours_alive() == [rot.accessor_of(blue)]


class TestRollbackByHand:
    def test_blue_copied_back_during_the_grace_is_a_rollback(self, rot: Rotating) -> None:
        """`cp -p ~/.vault-token.previous ~/.vault-token`: the next step revokes green."""
        world = rot.token_rotation().world
        blue = world.mint_ours()
        world.write(blue)
        assert rot.cli("rotate", "devvm-token", "--now").code == 0
        green = world.read()
        leakguard.remember(green)
        world.write(previous_file(world).read_text())

        result = rot.cli("rotate", "devvm-token")

        assert result.code == 0, result.err
        assert "blue is back in the sink" in result.event("rotation.green_discarded")["summary"]
        assert result.event("rotation.rolled_back")
        assert world.lookup(green) is None
        assert world.ours_alive() == [rot.accessor_of(blue)]


PROMOTION_CRASH_POINTS = [
    "rotation.issue.before",
    "rotation.token.minted",
    "rotation.issue.after",
    "rotation.validate.after",
    "rotation.promote.before",
    "rotation.token.previous_kept",
    "rotation.token.ledger_committed",
    "rotation.promote.after",
]
WITHDRAWAL_CRASH_POINTS = ["rotation.revoke_blue.before", "rotation.revoke_blue.after"]


def assert_one_token_of_ours(rot: Rotating, blue: str, blue_accessor: str) -> None:
    """One token of ours, in the file, alive; blue either still it or revoked (completed)."""
    world = rot.world
    in_file = world.lookup(world.read())
    assert in_file is not None and in_file["display_name"] == world.ours
    assert world.ours_alive() == [in_file["accessor"]]
    state = rot.state()
    assert state["phase"] == "blue_active"
    assert state["blue"] in {blue_accessor, in_file["accessor"]}
    if in_file["accessor"] != blue_accessor:
        assert world.lookup(blue) is None
        assert state["last_result"] == "completed"
    assert not previous_file(world).exists()


@pytest.mark.floor(6, 16)
class TestCrashes:
    @pytest.mark.parametrize("point", PROMOTION_CRASH_POINTS)
    def test_kill_9_up_to_the_promotion_then_resume_leaves_exactly_one_token(
        self, rot: Rotating, point: str
    ) -> None:
        """SIGKILL in `rotate --now`; runs past the grace end with one token of ours."""
        world = rot.token_rotation(grace="1h").world
        blue = world.mint_ours()
        world.write(blue)
        blue_accessor = rot.accessor_of(blue)

        crashed = finish(
            world.process("rotate", "devvm-token", "--now", env={"RENEWER_CRASHPOINT": point})
        )
        assert crashed.code == -9, crashed.err
        leakguard.remember(world.read())

        later = time.time() + 2 * HOUR
        rot.advance(2 * HOUR)
        for when in (later, later + 60, later + 7200):  # resume, complete, at rest
            results = rot.run_at(when)
            assert all(r.outcome.exit_code == 0 for r in results.values()), [
                r.summary for r in results.values()
            ]
        assert_one_token_of_ours(rot, blue, blue_accessor)

    @pytest.mark.parametrize("point", WITHDRAWAL_CRASH_POINTS)
    def test_kill_9_while_withdrawing_blue_after_its_grace_then_resume(
        self, rot: Rotating, point: str
    ) -> None:
        """Promoted two hours ago with a 1 h grace; `rotate` dies revoking blue; `run` finishes."""
        world = rot.token_rotation(grace="1h").world
        blue = world.mint_ours()
        world.write(blue)
        blue_accessor = rot.accessor_of(blue)
        promoted = rot.rotate_at(time.time() - 2 * HOUR, force=True)
        assert promoted.event == "rotation.rotated", promoted.summary
        green = world.read()
        leakguard.remember(green)

        crashed = finish(world.process("rotate", "devvm-token", env={"RENEWER_CRASHPOINT": point}))
        assert crashed.code == -9, crashed.err
        assert rot.state()["phase"] == "blue_revoking"

        result = rot.cli("run")

        assert result.code == 0, result.err
        assert result.event("rotation.completed")
        assert world.lookup(blue) is None
        assert world.ours_alive() == [rot.accessor_of(green)]
        assert_one_token_of_ours(rot, blue, blue_accessor)

    def test_a_crashed_rotate_leaves_no_kept_token_in_a_temp_file_after_the_next_rotate(
        self, rot: Rotating
    ) -> None:
        """Killed mid-write of `<sink>.previous`: the temp file holds a live token; the next
        `renewer rotate` (not only `run`) removes it."""
        world = rot.token_rotation(grace="1h").world
        blue = world.mint_ours()
        world.write(blue)

        # The 8th atomic write of `rotate --now` is <sink>.previous (state x2, ledger x2,
        # state x3 before it); killed after its fsync, before its rename.
        crashed = finish(
            world.process(
                "rotate", "devvm-token", "--now", env={"RENEWER_CRASHPOINT": "write.fsynced#8"}
            )
        )
        assert crashed.code == -9, crashed.err
        leftovers = list(world.home.glob(".*vault-token.previous.renewer-tmp.*"))
        assert leftovers, sorted(path.name for path in world.home.iterdir())

        result = rot.cli("rotate", "devvm-token")

        assert result.code == 0, result.err
        assert not list(world.home.glob(".*renewer-tmp.*"))


APPROLE = "renewer-test-approle"
APPROLE_POLICY = (
    'path "auth/approle/role/*" { capabilities = ["create", "read", "update", "delete", "list"] }'
)

APPROLE_ROTATION = """\
rotations:
  - name: ci
    type: approle
    role: {role}
    token: devvm
    role_id_file: {home}/ci/role-id
    secret_id_file: {home}/ci/secret-id
    every: 30d
    grace: 2h
"""


@dataclass
class AppRoleWorld:
    rot: Rotating
    role: str

    @property
    def world(self) -> World:
        return self.rot.world

    @property
    def secret_file(self) -> Path:
        return self.world.home / "ci" / "secret-id"

    def login(self, secret_id: str) -> bool:
        role_id = (self.world.home / "ci" / "role-id").read_text()
        response = self.world.vault.request(
            "POST",
            "auth/approle/login",
            token="",
            json={"role_id": role_id, "secret_id": secret_id},
        )
        if response.status_code == 200:
            leakguard.remember(response.json()["auth"]["client_token"])
        return response.status_code == 200

    def accessors(self) -> list[str]:
        response = self.world.vault.request("LIST", f"auth/approle/role/{self.role}/secret-id")
        return sorted(response.json()["data"]["keys"]) if response.status_code == 200 else []


def approle_setup(world: World) -> str:
    """An AppRole role for this test, and an authority token in the sink that may manage it."""
    vault = world.vault
    if not vault.is_dev and "approle/" not in vault.client().sys.list_auth_methods()["data"]:
        vault.client().sys.enable_auth_method("approle")
    put = vault.request("PUT", f"sys/policies/acl/{APPROLE}", json={"policy": APPROLE_POLICY})
    assert put.status_code in {200, 204}
    role = f"ci-{world.display}"
    created = vault.request(
        "POST",
        f"auth/approle/role/{role}",
        json={"token_ttl": "10m", "secret_id_ttl": "40d", "token_policies": ["default"]},
    )
    assert created.status_code in {200, 204}, created.text
    world.mint_policies = (ADMIN, SOPS, APPROLE)
    authority = world.create(
        policies=[ADMIN, SOPS, APPROLE],
        period=world.period,
        display_name=world.display,
        no_parent=True,
    )
    world.write(authority)
    return role


@pytest.fixture
def approle(rot: Rotating) -> AppRoleWorld:
    world = rot.world
    role = approle_setup(world)
    rot.rotations = APPROLE_ROTATION.format(role=role, home=world.home)
    return AppRoleWorld(rot, role)


class TestAppRoleRotation:
    def test_first_secret_id_then_a_full_cycle_with_the_virtual_clock(
        self, approle: AppRoleWorld
    ) -> None:
        """Bootstrap writes role-id and secret-id; 30 days later a new one, both valid for
        the grace, then the old one destroyed. Files 0600, the old value kept only meanwhile."""
        rot, world = approle.rot, approle.world
        start = time.time()

        first = rot.cli("rotate", "ci", "--now")
        assert first.code == 0, first.err
        blue = approle.secret_file.read_text()
        leakguard.remember(blue)
        assert stat.S_IMODE(approle.secret_file.stat().st_mode) == 0o600
        assert approle.login(blue)
        assert len(approle.accessors()) == 1
        assert rot.state("ci")["phase"] == "blue_active"

        rot.run_at(start)  # renews the authority; not due
        rot.advance(30 * DAY)
        rotated = rot.run_at(start + 30 * DAY + 60)["rotation/ci"]
        assert rotated.event == "rotation.rotated", rotated.summary
        green = approle.secret_file.read_text()
        leakguard.remember(green)
        assert green != blue
        assert approle.login(green) and approle.login(blue), "both valid during the grace"
        assert len(approle.accessors()) == 2
        assert approle.secret_file.with_name("secret-id.previous").read_text() == blue

        rot.advance(3 * HOUR)
        completed = rot.run_at(start + 30 * DAY + 3 * HOUR)["rotation/ci"]
        assert completed.event == "rotation.completed", completed.summary
        assert approle.login(green)
        assert not approle.login(blue)
        assert len(approle.accessors()) == 1
        assert not approle.secret_file.with_name("secret-id.previous").exists()
        assert world.read(), "the authority token is untouched"

    def test_a_single_use_secret_id_fails_validation_and_is_destroyed(
        self, approle: AppRoleWorld
    ) -> None:
        """secret_id_num_uses: 1 would be used up by the login: refused, destroyed, exit 1."""
        rot, world = approle.rot, approle.world
        assert rot.cli("rotate", "ci", "--now").code == 0
        blue = approle.secret_file.read_text()
        leakguard.remember(blue)
        before = approle.accessors()
        world.vault.request(
            "POST", f"auth/approle/role/{approle.role}", json={"secret_id_num_uses": 1}
        )

        result = rot.cli("rotate", "ci", "--now")

        assert result.code == 1
        failed = result.event("rotation.validation_failed")
        assert "secret_id_num_uses: 1" in failed["summary"]
        assert approle.secret_file.read_text() == blue
        assert approle.accessors() == before

    def test_a_crash_after_generating_is_swept_by_metadata_only(
        self, approle: AppRoleWorld
    ) -> None:
        """The unrecorded secret-id is destroyed; another tool's secret-id is left alone."""
        rot, world = approle.rot, approle.world
        assert rot.cli("rotate", "ci", "--now").code == 0
        foreign = world.vault.request(
            "POST", f"auth/approle/role/{approle.role}/secret-id", json={}
        ).json()["data"]
        leakguard.remember(foreign["secret_id"])
        blue_and_foreign = approle.accessors()

        crashed = finish(
            world.process(
                "rotate", "ci", "--now", env={"RENEWER_CRASHPOINT": "rotation.issue.after"}
            )
        )
        assert crashed.code == -9
        assert len(approle.accessors()) == 3

        result = rot.cli("rotate", "ci")

        assert result.code == 0, result.err
        assert result.event("rotation.leftovers_swept")
        assert approle.accessors() == blue_and_foreign
        assert foreign["secret_id_accessor"] in approle.accessors()


class TestRotationStatus:
    def test_status_json_shows_phase_since_grace_and_next_due(self, rot: Rotating) -> None:
        """After a rotation in its grace: phase green_active, grace end, no secrets."""
        world = rot.token_rotation(schedule="every: 30d").world
        blue = world.mint_ours()
        world.write(blue)
        assert rot.cli("rotate", "devvm-token", "--now").code == 0
        leakguard.remember(world.read())

        result = rot.cli("rotation", "status", "--json")

        assert result.code == 0
        report = json.loads(result.out)
        row = report["rotations"][0]
        assert (row["name"], row["type"], row["phase"]) == (
            "devvm-token",
            "vault-token",
            "green_active",
        )
        assert row["grace_ends_at"] and row["next_due_at"] and row["since"]
        assert row["blue"] == rot.accessor_of(blue)
        text = (world.state / "rotation" / "devvm-token.json").read_text()
        leakguard.scan("rotation state file", text)
        assert blue not in text and world.read() not in text

    def test_status_flags_a_failed_cycle_and_an_unreadable_state(self, rot: Rotating) -> None:
        """Exit 1 with the reason, for each."""
        world = rot.token_rotation().world
        world.write(world.mint_ours())
        store = RotationStore(world.state)
        store.directory.mkdir(parents=True)
        store.path("devvm-token").write_text("garbage")

        result = rot.cli("rotation", "status")

        assert result.code == 1
        assert "cannot read the state of rotation" in result.out


class TestOutagesAndRefusals:
    def test_vault_down_while_minting_is_temporary_and_resumed(self, rot: Rotating) -> None:
        """503 on create-orphan: exit 75, GREEN_ISSUING kept; `rotate --now` later finishes."""
        controls = rot.world.vault.require_dev()
        world = rot.token_rotation(grace="1h").world
        world.deadline = "2s"
        blue = world.mint_ours()
        world.write(blue)
        controls.add_fault("status", status=503, path="auth/token/create-orphan")

        failed = rot.cli("rotate", "devvm-token", "--now")

        assert failed.code == 75
        assert failed.event("rotation.failed")["outcome"] == "TEMPORARY"
        assert world.read() == blue
        assert rot.state()["phase"] == "green_issuing"

        controls.clear_faults()
        world.deadline = "20s"
        resumed = rot.cli("rotate", "devvm-token", "--now")

        assert resumed.code == 0, resumed.err
        assert resumed.event("rotation.resumed")
        assert resumed.event("rotation.rotated")
        assert sorted(world.ours_alive()) == sorted(
            [rot.accessor_of(blue), rot.accessor_of(world.read())]
        ), "the new token and blue in its grace; nothing else"

    def test_an_authority_without_approle_rights_is_refused_cleanly(self, rot: Rotating) -> None:
        """403 on generate: nothing created, exit 1, the reason and the next command."""
        world = rot.world
        vault = world.vault
        if not vault.is_dev and "approle/" not in vault.client().sys.list_auth_methods()["data"]:
            vault.client().sys.enable_auth_method("approle")
        role = f"ci-{world.display}"
        vault.request("POST", f"auth/approle/role/{role}", json={"token_ttl": "10m"})
        world.write(world.mint_ours())  # admin + sops: no approle policy
        rot.rotations = APPROLE_ROTATION.format(role=role, home=world.home)

        result = rot.cli("rotate", "ci", "--now")

        assert result.code == 1
        refused = result.event("rotation.issue_refused")
        assert "permission denied" in refused["summary"]
        assert "renewer rotate ci --now" in refused["summary"]
        assert not (world.home / "ci" / "secret-id").exists()
        assert rot.state("ci")["last_result"] == "issue_refused"


class TestStatusIntegration:
    def test_renewer_status_lists_rotations_next_to_tokens(self, rot: Rotating) -> None:
        """The state file `renewer status` reads has one item per rotation."""
        world = rot.token_rotation(schedule="every: 30d").world
        world.write(world.mint_ours())
        assert rot.cli("run").code == 0

        result = rot.cli("status", "--json")

        keys = [item["key"] for item in json.loads(result.out)["items"]]
        assert keys == ["rotation/devvm-token", "token/devvm"]

    def test_rotation_status_in_words(self, rot: Rotating) -> None:
        """One line per rotation: phase, since, next due."""
        world = rot.token_rotation(schedule="every: 30d").world
        world.write(world.mint_ours())
        assert rot.cli("run").code == 0

        result = rot.cli("rotation", "status")

        assert result.code == 0
        line = result.out.splitlines()[0]
        assert line.startswith("ok    devvm-token")
        assert "blue_active" in line and "next due" in line


class TestServerErrors:
    def test_a_lost_mint_response_leaves_a_token_the_next_run_sweeps(self, rot: Rotating) -> None:
        """The mint happened but its answer was cut off: exit 75, GREEN_ISSUING; the next run
        finds the token nobody recorded by its renewer_rotation meta, revokes it, rotates."""
        controls = rot.world.vault.require_dev()
        world = rot.token_rotation(grace="1h").world
        blue = world.mint_ours()
        world.write(blue)
        controls.add_fault("truncate", path="auth/token/create-orphan", count=1)

        lost = rot.cli("rotate", "devvm-token", "--now")

        assert lost.code == 75
        assert len(world.ours_alive()) == 2, "the minted token exists, unrecorded"
        assert rot.state()["phase"] == "green_issuing"

        resumed = rot.cli("rotate", "devvm-token", "--now")

        assert resumed.code == 0, resumed.err
        swept = resumed.event("rotation.leftovers_swept")["summary"]
        assert "removed 1 token(s) it had issued without recording them" in swept
        assert world.read() != blue
        assert sorted(world.ours_alive()) == sorted(
            [rot.accessor_of(blue), rot.accessor_of(world.read())]
        )

    def test_a_500_when_revoking_blue_keeps_the_intent_and_blue_until_the_next_run(
        self, rot: Rotating
    ) -> None:
        """Exit 75 with BLUE_REVOKING on disk; green in the file; the next run revokes blue."""
        controls = rot.world.vault.require_dev()
        world = rot.token_rotation(grace="1h").world
        world.deadline = "2s"
        blue = world.mint_ours()
        world.write(blue)
        assert rot.rotate_at(time.time() - 2 * HOUR, force=True).event == "rotation.rotated"
        controls.add_fault("status", status=500, path="auth/token/revoke-accessor")

        failed = rot.cli("rotate", "devvm-token")

        assert failed.code == 75
        assert rot.state()["phase"] == "blue_revoking"
        assert "Vault" in rot.state()["run_error"], "status is told why the run stopped"
        green = world.read()
        leakguard.remember(green)
        assert world.lookup(blue) is not None and world.lookup(green) is not None

        controls.clear_faults()
        world.deadline = "20s"
        done = rot.cli("run")

        assert done.code == 0, done.err
        assert done.event("rotation.completed")
        assert world.lookup(blue) is None
        assert world.ours_alive() == [rot.accessor_of(green)]

    def test_a_lost_generate_response_is_swept_by_metadata(self, approle: AppRoleWorld) -> None:
        """AppRole: the secret-id was created but the answer lost; the next run destroys it."""
        rot, world = approle.rot, approle.world
        controls = world.vault.require_dev()
        assert rot.cli("rotate", "ci", "--now").code == 0
        leakguard.remember(approle.secret_file.read_text())
        blue = approle.accessors()
        controls.add_fault("truncate", path=f"auth/approle/role/{approle.role}/secret-id", count=1)

        lost = rot.cli("rotate", "ci", "--now")

        assert lost.code == 75
        assert len(approle.accessors()) == 2

        resumed = rot.cli("rotate", "ci")

        assert resumed.code == 0, resumed.err
        assert resumed.event("rotation.leftovers_swept")
        assert approle.accessors() == blue


class TestCheck:
    def test_check_reports_each_rotation_and_fails_on_a_damaged_state(self, rot: Rotating) -> None:
        """`renewer check`: one line per rotation; an unreadable state file is a failure."""
        world = rot.token_rotation(schedule="every: 30d").world
        world.write(world.mint_ours())
        fine = rot.cli("check")
        assert fine.code == 0, fine.out
        assert "ok    rotation devvm-token (vault-token): not run yet, next due" in fine.out

        store = RotationStore(world.state)
        store.directory.mkdir(parents=True)
        store.path("devvm-token").write_text("{}")
        broken = rot.cli("check")
        assert broken.code == 1
        assert "fail  rotation devvm-token (vault-token): " in broken.out
        assert "rotation-state-invalid" in broken.out
