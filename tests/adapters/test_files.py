"""Tests for renewer.files and renewer.tokens.tokenfile on a real filesystem (tmp_path)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from renewer.core.secret import Secret
from renewer.errors import TokenFileError
from renewer.files import TEMP_INFIX, sweep_temp_files, write_atomic
from renewer.tokens.tokenfile import read_token, repair_mode, write_token


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestWriteAtomic:
    def test_new_file_is_0600_and_holds_the_data(self, tmp_path: Path) -> None:
        """0600 from creation, even with a permissive umask."""
        old = os.umask(0)
        try:
            write_atomic(tmp_path / "t", b"data")
        finally:
            os.umask(old)
        assert (tmp_path / "t").read_bytes() == b"data"
        assert mode(tmp_path / "t") == 0o600

    def test_replacing_keeps_no_temp_file(self, tmp_path: Path) -> None:
        """Only the target remains."""
        (tmp_path / "t").write_bytes(b"old")
        write_atomic(tmp_path / "t", b"new")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]

    def test_a_failed_write_leaves_the_old_file_and_no_temp(self, tmp_path: Path) -> None:
        """Writing into a directory that is the target fails cleanly."""
        (tmp_path / "d").mkdir()
        with pytest.raises(OSError):
            write_atomic(tmp_path / "d", b"x")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


class TestSweepTempFiles:
    def test_temps_of_dead_writers_are_removed_and_live_ones_kept(self, tmp_path: Path) -> None:
        """A crashed writer's temp goes; a running writer's temp stays."""
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        dead_temp = tmp_path / f".t{TEMP_INFIX}{dead.stdout.strip()}.abcd1234"
        live_temp = tmp_path / f".t{TEMP_INFIX}{os.getpid()}.abcd1234"
        other = tmp_path / ".unrelated"
        for path in (dead_temp, live_temp, other):
            path.write_bytes(b"x")
        assert sweep_temp_files(tmp_path) == [dead_temp]
        assert live_temp.exists() and other.exists()

    def test_a_missing_directory_is_not_an_error(self, tmp_path: Path) -> None:
        """Nothing to sweep."""
        assert sweep_temp_files(tmp_path / "absent") == []


@pytest.mark.floor(1, 2, 3, 4)
class TestReadToken:
    def test_whitespace_bom_and_crlf_are_stripped(self, tmp_path: Path) -> None:
        """What editors and Windows leave around a token is not part of it."""
        path = tmp_path / "tok"
        path.write_bytes(b"\xef\xbb\xbf  hvs.ABCDEFGHIJ\r\n")
        path.chmod(0o600)
        assert read_token(path, sink="devvm").token.reveal() == "hvs.ABCDEFGHIJ"

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"", "empty"),
            (b"  \n\t ", "empty"),
            (b"\x00\x01binary", "binary"),
            (b"hvs.one\nhvs.two\n", "several"),
            (b"x" * 5000, "larger than"),
            ("tökén".encode(), "non-ASCII"),
        ],
        ids=["empty", "whitespace", "binary", "two-lines", "oversized", "non-ascii"],
    )
    def test_bad_content_is_reported_and_the_file_left_alone(
        self, tmp_path: Path, content: bytes, message: str
    ) -> None:
        """Never reinterpreted, never rewritten."""
        path = tmp_path / "tok"
        path.write_bytes(content)
        path.chmod(0o600)
        with pytest.raises(TokenFileError, match=message) as caught:
            read_token(path, sink="devvm")
        assert str(path) in str(caught.value)
        assert path.read_bytes() == content

    def test_missing_file_hint_names_the_recovery(self, tmp_path: Path) -> None:
        """The hint is the exact command."""
        with pytest.raises(TokenFileError) as caught:
            read_token(tmp_path / "absent", sink="devvm")
        assert "renewer mint devvm" in caught.value.hint

    @pytest.mark.parametrize("target", ["dangling", "/dev/zero", "directory"])
    def test_symlinks_and_non_files_are_refused(self, tmp_path: Path, target: str) -> None:
        """O_NOFOLLOW and a regular-file check: no surprises from links, devices or dirs."""
        path = tmp_path / "tok"
        if target == "directory":
            path.mkdir()
        else:
            path.symlink_to(tmp_path / "nowhere" if target == "dangling" else target)
        with pytest.raises(TokenFileError, match="symbolic link|directory|regular file"):
            read_token(path, sink="devvm")

    def test_loose_mode_is_noticed_and_repaired(self, tmp_path: Path) -> None:
        """A 0644 token file is repaired to 0600."""
        path = tmp_path / "tok"
        path.write_bytes(b"hvs.ABCDEFGHIJ")
        path.chmod(0o644)
        token_file = read_token(path, sink="devvm")
        assert token_file.loose_mode
        repair_mode(token_file)
        assert mode(path) == 0o600


class TestWriteToken:
    def test_written_without_newline_like_the_vault_cli(self, tmp_path: Path) -> None:
        """The Vault CLI reads it back exactly."""
        write_token(tmp_path / "tok", Secret("hvs.NEW"))
        assert (tmp_path / "tok").read_bytes() == b"hvs.NEW"
        assert mode(tmp_path / "tok") == 0o600

    def test_a_symlinked_sink_is_not_replaced(self, tmp_path: Path) -> None:
        """Replacing a link would silently cut the user's link."""
        (tmp_path / "real").write_bytes(b"old")
        (tmp_path / "tok").symlink_to(tmp_path / "real")
        with pytest.raises(TokenFileError, match="symbolic link"):
            write_token(tmp_path / "tok", Secret("hvs.NEW"))
        assert (tmp_path / "real").read_bytes() == b"old"

    def test_repr_of_a_token_file_hides_the_token(self, tmp_path: Path, make_secret) -> None:  # type: ignore[no-untyped-def]
        """Secret-holding values have redacting reprs."""
        value = make_secret("hvs")
        (tmp_path / "tok").write_text(value)
        (tmp_path / "tok").chmod(0o600)
        token_file = read_token(tmp_path / "tok", sink="devvm")
        assert value not in repr(token_file)
        assert value not in f"{token_file.token}"
