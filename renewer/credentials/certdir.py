"""The ``cert_dir`` sink: a certificate set in generation directories behind one symlink.

Layout (every directory 0700, every file 0600)::

    <path>/current -> gen-7          the set in use: one rename switches it
    <path>/gen-7/cert.pem            the certificate
    <path>/gen-7/chain.pem           its issuer chain (when there is one)
    <path>/gen-7/fullchain.pem       certificate + chain
    <path>/gen-7/key.pem             the private key
    <path>/gen-6/...                 the previous set, kept until the next switch

A new set is written into a fresh ``gen-N`` (each file with ``write_atomic``,
then the directory fsynced), and only then is ``current`` replaced by a
rename of a new symlink over it (and ``<path>`` fsynced). A reader that
resolves ``current`` once sees the old set or the new one, never a mix; a
crash before the switch leaves ``current`` on the old set and a stray
generation the next write removes. Programs should open the files through
``current/`` after resolving it once (``realpath``), or reload on the
credential's hook.

A ``<path>`` that is a symlink, a ``current`` that is not a symlink to a
``gen-N`` of its own directory, or files of another shape are refused, not
replaced: someone else owns them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path

from renewer import crashpoints
from renewer.files import (
    SECRET_DIR_MODE,
    SECRET_FILE_MODE,
    UnsafeFile,
    ensure_private_dir,
    fsync_directory,
    read_small_file,
    temp_name_for,
    write_atomic,
)

CURRENT = "current"
_GENERATION = re.compile(r"^gen-(\d{1,9})$")
MAX_FILE_BYTES = 1 << 20


class NotOurs(OSError):
    """The directory holds something renewer did not make (the message says what)."""


def _check_root(path: Path) -> bool:
    """True when *path* exists as a real directory; raise :class:`NotOurs` for anything else."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        raise NotOurs(f"{path} is a symbolic link")
    if not stat.S_ISDIR(info.st_mode):
        raise NotOurs(f"{path} is not a directory")
    return True


def current_generation(path: Path) -> str | None:
    """The ``gen-N`` name ``current`` points to, None when there is no ``current`` yet."""
    if not _check_root(path):
        return None
    link = path / CURRENT
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        return None
    except OSError:
        raise NotOurs(f"{link} is not a symbolic link") from None
    if not _GENERATION.match(target):
        raise NotOurs(f"{link} points to {target!r}, not to a gen-N directory of its own")
    return target


def current_files(path: Path) -> dict[str, tuple[bytes, int]] | None:
    """The files of the current generation with their modes, None when there is none."""
    generation = current_generation(path)
    if generation is None:
        return None
    directory = path / generation
    found: dict[str, tuple[bytes, int]] = {}
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return None
    for name in names:
        try:
            facts = read_small_file(directory / name, max_bytes=MAX_FILE_BYTES)
        except UnsafeFile as exc:
            raise NotOurs(f"{directory / name} {exc.strerror}") from None
        found[name] = (facts.content, stat.S_IMODE(facts.mode))
    return found


def is_current(path: Path, files: Mapping[str, bytes]) -> bool:
    """True when the current generation holds exactly *files*, each 0600."""
    found = current_files(path)
    if found is None:
        return False
    wanted = {name: (data, SECRET_FILE_MODE) for name, data in files.items()}
    return found == wanted


def _generations(path: Path) -> list[int]:
    numbers = []
    for entry in os.listdir(path):
        match = _GENERATION.match(entry)
        if match:
            numbers.append(int(match.group(1)))
    return sorted(numbers)


def write_generation(path: Path, files: Mapping[str, bytes]) -> str:
    """Write *files* as a new generation and switch ``current`` to it; returns its name."""
    if not _check_root(path):
        ensure_private_dir(path)
    previous = current_generation(path)
    number = max(_generations(path), default=0) + 1
    generation = f"gen-{number}"
    directory = path / generation
    directory.mkdir(mode=SECRET_DIR_MODE)
    for name, data in files.items():
        write_atomic(directory / name, data)
    fsync_directory(directory)
    crashpoints.reached("mtls.generation_written")
    temporary = temp_name_for(path / CURRENT)  # swept by the next run if this one dies here
    os.symlink(generation, temporary)
    try:
        os.replace(temporary, path / CURRENT)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    fsync_directory(path)
    crashpoints.reached("mtls.switched")
    keep = {generation, previous}
    for old in _generations(path):
        if f"gen-{old}" not in keep:
            shutil.rmtree(path / f"gen-{old}", ignore_errors=True)
    return generation
