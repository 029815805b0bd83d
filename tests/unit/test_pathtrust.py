"""renewer.core.pathtrust: where renewer may keep its state (issue 20, item 9)."""

from __future__ import annotations

import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.pathtrust import PathFacts, Untrusted, judge

ME, OTHER, ROOT = 1000, 1001, 0
DIR, FILE = stat.S_IFDIR, stat.S_IFREG
HOME = [PathFacts("/home/me", ME, DIR | 0o755), PathFacts("/home", ROOT, DIR | 0o755)]
ROOTS = [PathFacts("/", ROOT, DIR | 0o755)]


def state(uid: int = ME, mode: int = DIR | 0o700, path: str = "/home/me/state") -> PathFacts:
    return PathFacts(path, uid, mode)


def verdict(
    target: PathFacts | None, ancestors: list[PathFacts], given: str = "/home/me/state"
) -> Untrusted | None:
    return judge(target, [*ancestors, *ROOTS], uid=ME, given=given, what="state dir")


class TestJudge:
    def test_a_private_dir_of_mine_in_my_home_is_trusted(self) -> None:
        assert verdict(state(), HOME) is None

    def test_a_missing_dir_is_judged_by_where_it_would_be_created(self) -> None:
        assert verdict(None, HOME) is None
        shared = PathFacts("/home/me", ME, DIR | 0o777)
        found = verdict(None, [shared, HOME[1]])
        assert found is not None and found.fix == "chmod go-w /home/me"

    def test_my_dir_writable_by_others_is_fixed_by_chmod(self) -> None:
        found = verdict(state(mode=DIR | 0o777), HOME)
        assert found is not None
        assert "writable by others (mode 0777)" in found.problem
        assert found.fix == "chmod 700 /home/me/state"

    def test_a_file_of_mine_writable_by_the_group_is_fixed_by_chmod_600(self) -> None:
        found = verdict(state(mode=FILE | 0o660, path="/home/me/state/state.json"), HOME)
        assert found is not None and found.fix == "chmod 600 /home/me/state/state.json"

    def test_another_users_dir_reached_through_my_symlink_is_moved_aside(self) -> None:
        """The issue's case: ~/.local/state/renewer → /tmp/shared (0777, someone else's)."""
        target = PathFacts("/tmp/shared", OTHER, DIR | 0o777)
        found = judge(
            target,
            [PathFacts("/tmp", ROOT, DIR | 0o1777), *ROOTS],
            uid=ME,
            given="/home/me/.local/state/renewer",
            what="state dir",
        )
        assert found is not None
        assert "(→ /tmp/shared) belongs to uid 1001" in found.problem
        assert found.fix.startswith(
            "mv /home/me/.local/state/renewer /home/me/.local/state/renewer.untrusted"
        )

    def test_a_sticky_world_writable_parent_is_fine(self) -> None:
        assert verdict(state(path="/tmp/me"), [PathFacts("/tmp", ROOT, DIR | 0o1777)]) is None

    @pytest.mark.parametrize(
        ("parent", "words"),
        [
            (PathFacts("/srv/x", OTHER, DIR | 0o755), "belongs to uid 1001"),
            (PathFacts("/srv/x", ROOT, DIR | 0o777), "others may write (mode 0777, no sticky"),
        ],
        ids=["other-owner", "root-owned-shared"],
    )
    def test_a_parent_i_cannot_fix_asks_for_another_state_dir(
        self, parent: PathFacts, words: str
    ) -> None:
        found = verdict(state(path="/srv/x/state"), [parent], given="/srv/x/state")
        assert found is not None and words in found.problem
        assert found.fix.startswith("set state_dir")

    def test_in_a_private_user_namespace_an_unmapped_parent_is_judged_by_its_bits(self) -> None:
        """PrivateUsers=yes: root's /home shows as 65534; the state dir is still mine."""
        hidden = [PathFacts("/home/me", ME, DIR | 0o755), PathFacts("/home", 65534, DIR | 0o755)]
        assert verdict(state(), hidden) is not None  # outside a namespace: refused
        inside = judge(state(), hidden, uid=ME, given="/home/me/state", what="s", unmapped=65534)
        assert inside is None
        shared = [PathFacts("/home", 65534, DIR | 0o777)]
        assert judge(state(), shared, uid=ME, given="/s", what="s", unmapped=65534) is not None
        stranger = state(uid=65534)
        assert judge(stranger, HOME, uid=ME, given="/s", what="s", unmapped=65534) is not None

    def test_the_fix_quotes_paths_for_the_shell(self) -> None:
        found = verdict(state(mode=DIR | 0o770, path="/home/me/my state"), HOME)
        assert found is not None and found.fix == "chmod 700 '/home/me/my state'"


modes = st.integers(min_value=0, max_value=0o7777)
uids = st.sampled_from([ME, OTHER, ROOT])
chains = st.lists(st.tuples(uids, modes), max_size=5)


@given(target=st.none() | st.tuples(uids, modes), above=chains)
def test_trusted_exactly_when_every_rule_holds(
    target: tuple[int, int] | None, above: list[tuple[int, int]]
) -> None:
    facts = None if target is None else PathFacts("/t", target[0], DIR | target[1])
    parents = [PathFacts(f"/p{i}", uid, DIR | mode) for i, (uid, mode) in enumerate(above)]

    found = judge(facts, parents, uid=ME, given="/t", what="state dir")

    target_ok = facts is None or (facts.uid == ME and not facts.mode & 0o022)
    parents_ok = all(
        p.uid in {ME, ROOT} and (not p.mode & 0o022 or p.mode & stat.S_ISVTX) for p in parents
    )
    assert (found is None) == (target_ok and parents_ok)
    if found is not None:
        assert found.fix
