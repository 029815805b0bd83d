"""Tests for renewer.core.jsonpath and the expect_json paths of renewer.core.expect."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renewer.core.expect import check_answer
from renewer.core.jsonpath import Found, Missing, PathError, Step, parse_path, select

ANSWER = {
    "ok": True,
    "data": [{"id": 5, "active": True}, {"id": 7, "active": True}],
    "meta": {"page.size": 2, "empty": []},
}


class TestParse:
    @pytest.mark.parametrize(
        ("text", "keys"),
        [
            ("$", ()),
            ("$.ok", ("ok",)),
            ("$.data[0].id", ("data", 0, "id")),
            ("$.data[-1]", ("data", -1)),
            ("$.data[*].id", ("data", "*", "id")),
            ("$.meta.*", ("meta", "*")),
            ("$.meta['page.size']", ("meta", "page.size")),
            ('$["a b"]', ("a b",)),
        ],
    )
    def test_the_subset_parses(self, text: str, keys: tuple[Any, ...]) -> None:
        """Names, quoted names, indices and wildcards."""
        assert tuple(step.key for step in parse_path(text)) == keys

    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("ok", "starts with $"),
            ("$.", "member name after '.' at position 2"),
            ("$[0", "is not closed"),
            ("$[01]", "not a name, an index or *"),
            ("$[?(@.x)]", "not a name, an index or *"),
            ("$x", "expected '.' or '['"),
            ("$['']", "not a name"),
        ],
    )
    def test_anything_else_is_refused_with_the_position(self, text: str, words: str) -> None:
        """Filters and scripts are not paths here."""
        with pytest.raises(PathError, match=re.escape(words)):
            parse_path(text)


class TestSelect:
    def test_a_value_is_found_with_its_location(self) -> None:
        """The concrete location names the index."""
        assert select(parse_path("$.data[-1].id"), ANSWER) == [Found("$.data[-1].id", 7)]

    def test_a_wildcard_selects_every_element(self) -> None:
        """Each element, located."""
        found = select(parse_path("$.data[*].active"), ANSWER)
        assert found == [Found("$.data[0].active", True), Found("$.data[1].active", True)]

    @pytest.mark.parametrize(
        ("text", "missing"),
        [
            ("$.nope", Missing("$.nope", "missing")),
            ("$.data[5]", Missing("$.data[5]", "the list has 2 element(s)")),
            ("$.ok.x", Missing("$.ok", "true/false, not an object")),
            ("$.meta.empty[*]", Missing("$.meta.empty[*]", "no elements")),
        ],
    )
    def test_where_selection_stops_is_said(self, text: str, missing: Missing) -> None:
        """Never an exception: a Missing with the place and the reason."""
        assert select(parse_path(text), ANSWER) == [missing]


class TestExpectJsonPaths:
    def test_paths_and_members_together(self) -> None:
        """The seed's `ok: true` is a member; `$...` keys are paths."""
        expect = {"ok": True, "$.data[0].id": 5, "$.data[*].active": True}
        assert check_answer(status=200, body=ANSWER, expect_json=expect) == ()

    def test_every_wildcard_node_must_match(self) -> None:
        """One mismatching element is named by its location, without quoting the answer."""
        body = {"data": [{"name": "a"}, {"name": "secret-ish"}]}
        problems = check_answer(status=200, body=body, expect_json={"$.data[*].name": "a"})
        assert problems == ("$.data[1].name: expected 'a', got a different string",)

    def test_a_missing_path_is_a_problem(self) -> None:
        """Stops are reported like missing members."""
        problems = check_answer(status=200, body=ANSWER, expect_json={"$.data[9].id": 1})
        assert problems == ("$.data[9]: the list has 2 element(s)",)

    def test_objects_under_a_path_match_as_subsets(self) -> None:
        """The same rule as members: extra keys in the answer are fine."""
        assert check_answer(status=200, body=ANSWER, expect_json={"$.data[1]": {"id": 7}}) == ()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet="ab.c _", min_size=1, max_size=4), children, max_size=3)
    ),
    max_leaves=12,
)


def _paths(value: Any, steps: tuple[Step, ...] = ()) -> list[tuple[tuple[Step, ...], Any]]:
    found = [(steps, value)]
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*steps, Step(index)))
    elif isinstance(value, dict):
        for key, item in value.items():
            if "'" not in key:
                found += _paths(item, (*steps, Step(key)))
    return found


@given(document=json_values)
def test_every_value_is_reachable_by_its_rendered_path(document: Any) -> None:
    """Render a path to each node, parse it back, select it: the node itself, located."""
    for steps, value in _paths(document):
        text = "$" + "".join(str(step) for step in steps)
        assert parse_path(text) == steps
        assert select(steps, document) == [Found(text, value)]
        assert check_answer(status=200, body=document, expect_json={text: value}) == ()
