"""The machine id behind the owner marks (renewer.tokens.owner): read, or kept 0600."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from renewer.tokens.owner import FALLBACK_NAME, machine_id

MACHINE = b"4f1d2c3b4a5968778695a4b3c2d1e0f0"


class TestMachineId:
    def test_the_system_machine_id_is_used(self, tmp_path: Path) -> None:
        system = tmp_path / "machine-id"
        system.write_bytes(MACHINE + b"\n")
        assert machine_id(tmp_path / "state", persist=True, sources=[system]) == MACHINE
        assert not (tmp_path / "state").exists(), "nothing is written when the system has one"

    def test_without_one_a_random_id_is_kept_0600_in_the_state_dir(self, tmp_path: Path) -> None:
        """A minimal container: the id is created once and stays the same."""
        state = tmp_path / "state"
        missing = [tmp_path / "nope", tmp_path / "empty"]
        (tmp_path / "empty").write_bytes(b"")
        first = machine_id(state, persist=True, sources=missing)
        kept = state / FALLBACK_NAME
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        assert machine_id(state, persist=True, sources=missing) == first

    def test_a_dry_run_never_creates_it(self, tmp_path: Path) -> None:
        state = tmp_path / "state"
        machine_id(state, persist=False, sources=[])
        assert not state.exists()

    def test_garbage_in_the_file_is_not_an_id(self, tmp_path: Path) -> None:
        """A truncated or foreign file is ignored, not trusted."""
        bad = tmp_path / "machine-id"
        bad.write_bytes(b"not-a-machine-id\n")
        got = machine_id(tmp_path / "state", persist=False, sources=[bad])
        assert got != b"not-a-machine-id"
        assert re.fullmatch(rb"[0-9a-f]{32}", got)
