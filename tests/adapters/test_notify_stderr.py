"""notify's fallback when stderr is gone: later writes go to /dev/null, no descriptor leaks."""

from __future__ import annotations

import io
import os

import pytest

from renewer.notify import _discard_stderr


def open_devnulls() -> set[int]:
    found = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == os.devnull:
                found.add(int(name))
        except OSError:
            continue  # the listing's own descriptor, closed by now
    return found


def test_a_stderr_without_a_descriptor_leaves_no_devnull_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In-process (a captured stream, no fileno) nothing is redirected and nothing leaks."""
    monkeypatch.setattr("sys.stderr", io.StringIO())
    before = open_devnulls()

    _discard_stderr()

    assert open_devnulls() == before


def test_a_stderr_with_a_descriptor_is_pointed_at_devnull(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The descriptor behind sys.stderr now writes to /dev/null; the helper's own is closed."""
    reader, writer = os.pipe()
    stream = open(writer, "w")  # noqa: SIM115 - closed below, after the redirect is checked
    monkeypatch.setattr("sys.stderr", stream)
    try:
        before = open_devnulls()

        _discard_stderr()

        assert open_devnulls() == before | {writer}
    finally:
        stream.close()
        os.close(reader)
