"""Tests for renewer.rotation.store: atomic 0600 state files, and refusing damaged ones."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from renewer.errors import RotationStateInvalid
from renewer.rotation.machine import LastResult, Phase, RotationState, new_state
from renewer.rotation.store import RotationStore, decode, encode


def in_flight() -> RotationState:
    return replace(
        new_state("devvm-token", "vault-token", now=1000.0),
        phase=Phase.GREEN_ACTIVE,
        blue="accessor-blue",
        green="accessor-green",
        grace_ends_at=5000.0,
        last_started_at=1100.0,
        last_promoted_at=1200.0,
        last_result=LastResult.ABANDONED,
        cycles=3,
    )


class TestRoundTrip:
    def test_saved_state_loads_identical(self, tmp_path: Path) -> None:
        """Every field survives a save and a load."""
        store = RotationStore(tmp_path)
        store.save(in_flight())
        assert store.load("devvm-token") == in_flight()

    def test_files_are_private(self, tmp_path: Path) -> None:
        """Directory 0700, file 0600, one JSON per rotation."""
        store = RotationStore(tmp_path / "state")
        store.save(in_flight())
        assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
        assert stat.S_IMODE(store.path("devvm-token").stat().st_mode) == 0o600
        assert list(store.names()) == ["devvm-token"]

    def test_a_missing_file_is_a_rotation_never_seen(self, tmp_path: Path) -> None:
        """None, not an error."""
        assert RotationStore(tmp_path).load("new") is None
        assert list(RotationStore(tmp_path).names()) == []

    def test_the_document_is_versioned_and_readable(self) -> None:
        """A person can read it: version, phase and identifiers, nothing else."""
        document = json.loads(encode(in_flight()))
        assert document["version"] == 1
        assert (document["phase"], document["blue"], document["green"]) == (
            "green_active",
            "accessor-blue",
            "accessor-green",
        )
        assert set(document) == {"version", *RotationState.__dataclass_fields__}


GOOD = json.loads(encode(in_flight()))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (json.dumps({**GOOD, "version": 2}).encode(), "unknown version 2"),
        (json.dumps({**GOOD, "phase": "green_glowing"}).encode(), "unknown phase 'green_glowing'"),
        (json.dumps({**GOOD, "name": "other"}).encode(), "records rotation 'other'"),
        (json.dumps({**GOOD, "since": "yesterday"}).encode(), "field 'since' is not a time"),
        (json.dumps({**GOOD, "blue": 7}).encode(), "field 'blue' is not a string"),
        (json.dumps({**GOOD, "cycles": -1}).encode(), "field 'cycles' is not a count"),
        (json.dumps({**GOOD, "last_result": "meh"}).encode(), "unknown last_result 'meh'"),
        (b"\xff\xfe", "not JSON"),
    ],
    ids=[
        "bad-json",
        "not-object",
        "version",
        "phase",
        "name",
        "time",
        "string",
        "cycles",
        "last-result",
        "binary",
    ],
)
def test_a_damaged_file_is_refused_and_left_alone(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    """Exit 1 with the path and the problem; the file is not moved or rewritten."""
    store = RotationStore(tmp_path)
    store.directory.mkdir()
    path = store.path("devvm-token")
    path.write_bytes(content)

    with pytest.raises(RotationStateInvalid) as info:
        store.load("devvm-token")

    assert info.value.exit_code == 1
    assert str(path) in info.value.message
    assert problem in info.value.message
    assert f"mv {path} {path}.bad" in info.value.hint
    assert info.value.see == "runbooks/rotation.md#rotation-state-invalid"
    assert path.read_bytes() == content


def test_a_symlinked_state_file_is_refused(tmp_path: Path) -> None:
    """State is never read through a symlink."""
    store = RotationStore(tmp_path)
    store.directory.mkdir()
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(encode(in_flight()))
    store.path("devvm-token").symlink_to(elsewhere)
    with pytest.raises(RotationStateInvalid, match="symbolic link"):
        store.load("devvm-token")


def test_decode_accepts_missing_optional_times() -> None:
    """A state written before a cycle started has no cycle times."""
    minimal = {"version": 1, "name": "r", "target": "approle", "phase": "blue_active"}
    minimal.update(since=1.0, anchor=1.0)
    decoded = decode(json.dumps(minimal).encode(), name="r")
    assert decoded == RotationState(name="r", target="approle", since=1.0, anchor=1.0)
