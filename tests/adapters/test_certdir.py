"""The cert_dir sink on disk: generations, one symlink switch, refusals."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from renewer.credentials import certdir
from renewer.credentials.certdir import NotOurs, current_files, is_current, write_generation

ONE = {"cert.pem": b"cert-1", "key.pem": b"key-1"}
TWO = {"cert.pem": b"cert-2", "key.pem": b"key-2"}


class TestWriteGeneration:
    def test_first_write_makes_gen_1_and_current(self, tmp_path: Path) -> None:
        """A private directory, 0600 files, current -> gen-1."""
        target = tmp_path / "tls"

        assert write_generation(target, ONE) == "gen-1"

        assert os.readlink(target / "current") == "gen-1"
        assert stat.S_IMODE(target.stat().st_mode) == 0o700
        assert stat.S_IMODE((target / "gen-1").stat().st_mode) == 0o700
        assert is_current(target, ONE)
        assert {name: mode for name, (_, mode) in (current_files(target) or {}).items()} == {
            "cert.pem": 0o600,
            "key.pem": 0o600,
        }

    def test_a_switch_keeps_the_previous_generation_only(self, tmp_path: Path) -> None:
        """gen-3 current, gen-2 kept for readers still on it, gen-1 removed."""
        target = tmp_path / "tls"
        write_generation(target, ONE)
        write_generation(target, TWO)

        write_generation(target, ONE)

        assert sorted(os.listdir(target)) == ["current", "gen-2", "gen-3"]
        assert is_current(target, ONE)
        assert not is_current(target, TWO)

    def test_a_generation_left_by_a_crash_is_skipped_and_removed(self, tmp_path: Path) -> None:
        """Written but never switched to: the next write uses a new number and cleans up."""
        target = tmp_path / "tls"
        write_generation(target, ONE)
        (target / "gen-2").mkdir()
        (target / "gen-2" / "cert.pem").write_bytes(b"half")

        assert write_generation(target, TWO) == "gen-3"

        assert sorted(os.listdir(target)) == ["current", "gen-1", "gen-3"]

    def test_is_current_notices_a_mode_change(self, tmp_path: Path) -> None:
        """A key made readable by others is rewritten."""
        target = tmp_path / "tls"
        write_generation(target, ONE)
        (target / "current" / "key.pem").chmod(0o644)

        assert not is_current(target, ONE)

    def test_no_current_yet(self, tmp_path: Path) -> None:
        """A missing directory is simply not current."""
        assert current_files(tmp_path / "absent") is None
        assert not is_current(tmp_path / "absent", ONE)


class TestRefusals:
    def test_a_symlinked_directory(self, tmp_path: Path) -> None:
        """Someone pointed it elsewhere on purpose."""
        (tmp_path / "real").mkdir()
        (tmp_path / "tls").symlink_to(tmp_path / "real")

        with pytest.raises(NotOurs, match="is a symbolic link"):
            write_generation(tmp_path / "tls", ONE)

    def test_current_that_is_a_real_directory(self, tmp_path: Path) -> None:
        """Not renewer's layout: refused, not replaced."""
        (tmp_path / "tls" / "current").mkdir(parents=True)

        with pytest.raises(NotOurs, match="is not a symbolic link"):
            is_current(tmp_path / "tls", ONE)

    def test_current_pointing_outside(self, tmp_path: Path) -> None:
        """A link to anything but a gen-N of its own directory is refused."""
        (tmp_path / "tls").mkdir()
        (tmp_path / "tls" / "current").symlink_to("/etc")

        with pytest.raises(NotOurs, match="not to a gen-N directory of its own"):
            write_generation(tmp_path / "tls", ONE)

    def test_constants(self) -> None:
        """The link name is part of the contract with other programs."""
        assert certdir.CURRENT == "current"
