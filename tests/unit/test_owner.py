"""The owner marks of the tokens renewer mints (renewer.core.owner)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.owner import Ownership, mint_meta, owner_id, ownership

MACHINE = b"4f1d2c3b4a5968778695a4b3c2d1e0f0"
machine_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).map(str.encode)
homes = st.sampled_from(["/home/alice", "/home/bob", "/tmp/home", "/root"])


class TestOwnerId:
    def test_sixteen_hex_digits_stable_from_run_to_run(self) -> None:
        first = owner_id(MACHINE, "/home/alice")
        assert re.fullmatch(r"[0-9a-f]{16}", first)
        assert owner_id(MACHINE + b"\n", "/home/alice") == first  # the file's newline

    @given(machine=machine_ids, home=homes)
    def test_the_machine_id_itself_is_never_published(self, machine: bytes, home: str) -> None:
        """systemd asks applications not to expose /etc/machine-id: only an HMAC of it."""
        mark = owner_id(machine, home)
        assert mark not in machine.decode()
        assert machine.decode()[:16] != mark

    @given(machine=machine_ids, other=machine_ids, home=homes, other_home=homes)
    def test_another_machine_or_home_is_another_owner(
        self, machine: bytes, other: bytes, home: str, other_home: str
    ) -> None:
        """Two devvms, or two users (two test homes) of one host, never share an owner id."""
        if (machine, home) != (other, other_home):
            assert owner_id(machine, home) != owner_id(other, other_home)


class TestOwnership:
    @pytest.mark.parametrize(
        ("meta", "expected"),
        [
            ({"renewer_machine": "me", "renewer_sink": "devvm"}, Ownership.MINE),
            ({"renewer_machine": "me", "renewer_sink": "devvm", "team": "x"}, Ownership.MINE),
            ({"renewer_machine": "other", "renewer_sink": "devvm"}, Ownership.ELSEWHERE),
            ({"renewer_machine": "me", "renewer_sink": "work"}, Ownership.ELSEWHERE),
            ({"renewer_machine": "me"}, Ownership.ELSEWHERE),
            ({"renewer_sink": "devvm"}, Ownership.ELSEWHERE),
            ({"created-by": "renewer", "sink": "devvm"}, Ownership.LEGACY),
            ({}, Ownership.UNMARKED),
            ({"created-by": "terraform"}, Ownership.UNMARKED),
        ],
    )
    def test_the_marks_say_whose_it_is(self, meta: dict[str, str], expected: Ownership) -> None:
        assert ownership(meta, owner="me", sink="devvm") is expected

    def test_minted_marks_read_back_as_mine(self) -> None:
        meta = mint_meta("me", "devvm", extra={"team": "infra"}, rotation="weekly")
        assert ownership(meta, owner="me", sink="devvm") is Ownership.MINE
        assert ownership(meta, owner="me", sink="other") is Ownership.ELSEWHERE
