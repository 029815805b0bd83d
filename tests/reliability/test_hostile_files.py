"""Hostile token files and file systems: refused or survived, never damaged, never followed.

The token file (floor 1-4): missing, empty, whitespace, binary, 10 MB, more
than 4 KiB, several lines, truncated JSON, a directory, a FIFO, owned by
another user (readable or mode 000), a symlink (to another user's file, to
/dev/zero, dangling), a hardlink. Refused ones: exit 1 with
``token.file_invalid``, no traceback, no request to Vault (so never an empty
``X-Vault-Token``), the path and whatever it points to byte-identical.

The file system (floor 5): the sink's directory full (ENOSPC, a 64 KiB
tmpfs), read-only (EROFS), or not writable (EACCES: the run loses
CAP_DAC_OVERRIDE through ``setpriv``, so root meets permissions like anyone);
the state dir full. The heal then fails cleanly: the old file intact, no temp
file left, the minted token revoked, a clear message.

And floor 4's "0600 from creation": under ``umask 000`` a run killed right
after creating its temp file leaves a 0600 file, and every directory renewer
creates is 0700.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from tests import leakguard
from tests.integration.conftest import CliResult, World, finish
from tests.reliability import tally
from tests.reliability.crash import temp_files

NOBODY = 65534
LOOKUP = "auth/token/lookup-self"


def snapshot(path: Path) -> tuple[str, bytes | str | None]:
    """What is at *path* without following it: a link's target, a file's bytes, or a kind."""
    if path.is_symlink():
        return ("link", os.readlink(path))
    if not path.exists():
        return ("missing", None)
    if path.is_dir():
        return ("dir", None)
    if not path.is_file():
        return ("special", None)
    return ("file", path.read_bytes())


def assert_refused(world: World, before: tuple[str, bytes | str | None], reason: str) -> None:
    controls = world.vault.require_dev()
    controls.reset_counters()
    result = world.cli("run")
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    event = result.event("token.file_invalid")
    assert reason in event["summary"], event["summary"]
    assert snapshot(world.sink) == before, "the token file changed"
    assert controls.counters().get(LOOKUP, 0) == 0, "a token was sent to Vault"


CONTENTS: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "empty"),
    "whitespace": (b" \r\n\t \n", "empty"),
    "binary": (b"\x00\xff\xfe hvs.\x01garbage", "binary"),
    "bom-only": (b"\xef\xbb\xbf", "empty"),
    "several-lines": (b"hvs.first\nhvs.second\n", "several"),
    "several-words": (b"hvs.first hvs.second", "several"),
    "over-4-kib": (b"h" * 5000, "larger than 4096"),
    "ten-mb": (b"x" * (10 * 1024 * 1024), "larger than 4096"),
    "latin-1": ("s.tökén".encode("latin-1"), "binary"),
}


@pytest.mark.floor(1, 2, 3)
@pytest.mark.parametrize("name", sorted(CONTENTS))
def test_bad_content_is_refused_untouched_and_never_sent(world: World, name: str) -> None:
    content, reason = CONTENTS[name]
    world.sink.write_bytes(content)
    world.sink.chmod(0o600)
    assert_refused(world, snapshot(world.sink), reason)
    tally.record(f"hostile-file/{name}")


@pytest.mark.floor(1)
def test_a_missing_file_is_not_created_and_nothing_is_sent(world: World) -> None:
    assert_refused(world, ("missing", None), "no token file")
    assert not world.sink.exists()
    tally.record("hostile-file/missing")


@pytest.mark.floor(2)
@pytest.mark.parametrize(
    "dress", [b"%s\r\n", b"\xef\xbb\xbf%s", b"  %s  \n"], ids=["crlf", "bom", "padded"]
)
def test_a_dressed_up_token_is_stripped_used_and_not_rewritten(world: World, dress: bytes) -> None:
    """CRLF, a BOM, blanks: the token inside is used; the file stays exactly as it was."""
    token = world.mint_ours()
    world.sink.write_bytes(dress % token.encode())
    world.sink.chmod(0o600)
    before = world.sink.read_bytes()
    result = world.cli("run")
    assert result.code == 0, result.err
    assert result.event("token.renewed")
    assert world.sink.read_bytes() == before
    tally.record("hostile-file/dressed-token")


@pytest.mark.floor(3)
@pytest.mark.parametrize(
    "content", [b'{"token": "hvs.CAESIabc', b'{"token":"hvs.CAESIabc'], ids=["spaced", "compact"]
)
def test_truncated_json_is_never_reinterpreted_and_the_file_stays(
    world: World, content: bytes
) -> None:
    """monarch#121: no token is dug out of it. With a blank it is refused unread; without
    one it is a single word, sent as it is, which Vault refuses as an invalid token."""
    world.sink.write_bytes(content)
    world.sink.chmod(0o600)
    result = world.cli("run")
    assert result.code == 1
    assert result.event("token.file_invalid" if b" " in content else "token.invalid")
    assert world.sink.read_bytes() == content
    assert "Traceback" not in result.err
    tally.record("hostile-file/truncated-json")


@pytest.fixture
def other_users_file(tmp_path: Path) -> Path:
    """A token-looking file owned by nobody (another user)."""
    path = tmp_path / "nobody-token"
    path.write_text("hvs.nobodys-token-0000000000000000")
    os.chown(path, NOBODY, NOBODY)
    path.chmod(0o600)
    return path


@pytest.mark.floor(4)
@pytest.mark.parametrize(
    "kind",
    ["directory", "fifo", "dev-zero", "dangling", "to-other-user", "owned-by-other", "mode-000"],
)
def test_what_is_not_our_plain_file_is_refused_and_not_followed(
    world: World, other_users_file: Path, kind: str
) -> None:
    sink = world.sink
    reason = {
        "directory": "is a directory",
        "fifo": "not a regular file",
        "dev-zero": "symbolic link",
        "dangling": "symbolic link",
        "to-other-user": "symbolic link",
        "owned-by-other": f"owned by uid {NOBODY}",
        "mode-000": f"owned by uid {NOBODY}",
    }[kind]
    if kind == "directory":
        sink.mkdir()
    elif kind == "fifo":
        os.mkfifo(sink, 0o600)
    elif kind == "dev-zero":
        sink.symlink_to("/dev/zero")
    elif kind == "dangling":
        sink.symlink_to(world.home / "nowhere")
    elif kind == "to-other-user":
        sink.symlink_to(other_users_file)
    else:
        shutil.copy(other_users_file, sink)
        os.chown(sink, NOBODY, NOBODY)
        sink.chmod(0o000 if kind == "mode-000" else 0o600)
    target = other_users_file.read_bytes()

    assert_refused(world, snapshot(sink), reason)

    assert other_users_file.read_bytes() == target
    if kind in {"owned-by-other", "mode-000"}:
        assert sink.stat().st_uid == NOBODY and stat.S_IMODE(sink.stat().st_mode) in {0, 0o600}
    tally.record(f"hostile-file/{kind}")


@pytest.mark.floor(4)
def test_a_hardlinked_sink_is_healed_without_writing_through_the_link(world: World) -> None:
    """The new token replaces the path; the other name keeps what it had."""
    world.write(world.mint_ours())
    assert world.cli("run").code == 0
    clobber = world.admin_clobber()
    world.write(clobber)
    other = world.home / "elsewhere-token"
    os.link(world.sink, other)

    result = world.cli("run")

    assert result.code == 0, result.err
    assert result.event("token.healed")
    assert other.read_text() == clobber
    assert world.sink.read_text() != clobber
    assert os.stat(world.sink).st_nlink == 1
    tally.record("hostile-file/hardlink")


# --- the file system refuses the write (floor 5) ---------------------------------------


@contextlib.contextmanager
def tmpfs(mountpoint: Path, size: str) -> Iterator[Path]:
    mountpoint.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mountpoint)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def fill(directory: Path) -> None:
    """Write until the file system is full."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)


@dataclass
class SinkElsewhere(World):
    """A world whose token sink lives where the test says (on a test mount)."""

    sink_at: Path = Path()

    @property
    def sink(self) -> Path:
        return self.sink_at


def elsewhere(world: World, path: Path) -> SinkElsewhere:
    values = {item.name: getattr(world, item.name) for item in fields(world)}
    return SinkElsewhere(**values, sink_at=path)


def clobbered(world: World) -> str:
    """Our token renewed once (the ledger knows it), then an admin login over it."""
    world.write(world.mint_ours())
    assert world.cli("run").code == 0
    clobber = world.admin_clobber()
    world.write(clobber)
    return clobber


def assert_heal_refused(world: World, clobber: str, result: CliResult, words: str) -> None:
    """The old file intact, no temp file, the minted token revoked, a clear message."""
    assert result.code == 1, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert world.sink.read_text() == clobber
    assert temp_files(world.home) == []
    alive = world.ours_alive()
    assert len(alive) == 1, f"the minted token was not revoked: {alive}"
    event = result.event("token.file_invalid")
    assert words in event["summary"] and "the old file is unchanged" in event["summary"]


@pytest.mark.floor(5)
@pytest.mark.parametrize("problem", ["enospc", "erofs"])
def test_a_full_or_read_only_sink_directory_fails_the_heal_cleanly(
    world: World, problem: str
) -> None:
    """The temp file cannot be written or created: old file intact, minted token revoked."""
    with tmpfs(world.home / "mnt", "64k") as directory:
        world = elsewhere(world, directory / "token")
        clobber = clobbered(world)
        if problem == "enospc":
            fill(directory)
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True)
        result = world.cli("run")
        words = "No space left" if problem == "enospc" else "Read-only file system"
        assert_heal_refused(world, clobber, result, words)
    tally.record(f"filesystem/{problem}")


DROP = "-dac_override,-dac_read_search,-fowner"
PRIVLESS = ("setpriv", "--bounding-set", DROP, "--inh-caps", DROP)


def renewer_argv(world: World) -> list[str]:
    config = str(world.config_path)
    return [sys.executable, "-m", "renewer", "--config", config, "--log-format", "json", "run"]


@pytest.mark.floor(5)
def test_a_sink_directory_we_may_not_write_fails_the_heal_cleanly(world: World) -> None:
    """EACCES: the run loses CAP_DAC_OVERRIDE, the sink's directory is r-x for its owner."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    locked = world.home / "locked"
    locked.mkdir()
    world = elsewhere(world, locked / "token")
    clobber = clobbered(world)
    locked.chmod(0o500)
    world.write_config()
    env = {k: v for k, v in os.environ.items() if k not in {"VAULT_TOKEN", "VAULT_ADDR"}}
    process = subprocess.Popen(
        [*PRIVLESS, *renewer_argv(world)],
        env={**env, "HOME": str(world.home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        result = finish(process)
    finally:
        locked.chmod(0o700)
    assert_heal_refused(world, clobber, result, "Permission denied")
    tally.record("filesystem/eacces")


@pytest.mark.floor(5)
def test_a_full_state_dir_stops_the_heal_before_any_mint(world: World) -> None:
    """The ledger cannot record the mint: no mint at all, a clear message, the file kept."""
    world.state.mkdir(parents=True)
    with tmpfs(world.state, "64k"):
        clobber = clobbered(world)
        fill(world.state)
        result = world.cli("run")
        assert result.code in {1, 75}, result.err
        assert "Traceback" not in result.err and "internal error" not in result.err
        assert "No space left" in result.err
        assert world.read() == clobber
        assert len(world.ours_alive()) == 1, "a token was minted that no ledger recorded"
        (world.state / "filler").unlink()
    tally.record("filesystem/state-dir-full")


# --- 0600 from creation (floor 4) -----------------------------------------------------


@pytest.mark.floor(4, 6)
def test_under_umask_000_a_temp_file_is_0600_from_creation(world: World) -> None:
    """Killed right after creating the token's temp file, with umask 000: the file is 0600."""
    clobber = clobbered(world)
    world.write_config()
    env = {k: v for k, v in os.environ.items() if k not in {"VAULT_TOKEN", "VAULT_ADDR"}}
    process = subprocess.Popen(
        renewer_argv(world),
        env={**env, "HOME": str(world.home), "RENEWER_CRASHPOINT": "write.temp_created#3"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        umask=0,
    )
    assert finish(process).code == -9
    left = temp_files(world.home)
    assert [path.parent for path in left] == [world.sink.parent], left
    assert stat.S_IMODE(left[0].stat().st_mode) == 0o600
    assert world.read() == clobber
    result = world.cli("run")
    assert result.code == 0 and temp_files(world.home) == []
    tally.record("filesystem/umask-000-temp-0600")


@pytest.mark.floor(4)
def test_under_umask_000_every_directory_renewer_creates_is_0700(world: World) -> None:
    """State dir and its parents, the config-validation cache: never world-writable."""
    world.write(world.mint_ours())
    world.write_config()
    env = {k: v for k, v in os.environ.items() if k not in {"VAULT_TOKEN", "VAULT_ADDR"}}
    process = subprocess.Popen(
        renewer_argv(world),
        env={**env, "HOME": str(world.home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        umask=0,
    )
    assert finish(process).code == 0
    created = [path for path in world.home.rglob("*") if path.is_dir()]
    assert world.state in created and world.home / ".local" in created
    modes = {str(path): oct(stat.S_IMODE(path.stat().st_mode)) for path in created}
    assert set(modes.values()) == {"0o700"}, modes
    for path in world.state.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    leakguard.scan("modes", str(modes))
    tally.record("filesystem/umask-000-dirs-0700")
