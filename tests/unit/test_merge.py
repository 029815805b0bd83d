"""Tests for renewer.core.merge: the ``extends`` deep merge."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from renewer.core.merge import deep_merge, plain


class Marked(list[Any]):
    """Stands in for yamlmarks.Append: core must not depend on the YAML layer."""


def is_marked(value: object) -> bool:
    return isinstance(value, Marked)


class TestDeepMerge:
    def test_child_scalar_replaces_parent_scalar(self) -> None:
        """Scalars from the child win."""
        assert deep_merge({"a": 1, "b": 2}, {"b": 3}) == {"a": 1, "b": 3}

    def test_mappings_merge_key_by_key(self) -> None:
        """Nested mappings combine instead of replacing each other."""
        parent = {"inject": {"header": {"A": "1", "B": "2"}}}
        child = {"inject": {"header": {"B": "x"}, "query": {"q": "1"}}}

        merged = deep_merge(parent, child)

        assert merged == {"inject": {"header": {"A": "1", "B": "x"}, "query": {"q": "1"}}}

    def test_plain_list_replaces_parent_list(self) -> None:
        """Lists are replaced unless marked for appending."""
        assert deep_merge({"tags": ["a", "b"]}, {"tags": ["c"]}) == {"tags": ["c"]}

    def test_append_list_keeps_parent_items_first(self) -> None:
        """An !append list is added after the parent's items."""
        merged = deep_merge({"tags": ["a", "b"]}, {"tags": Marked(["c"])}, is_append=is_marked)

        assert merged == {"tags": ["a", "b", "c"]}
        assert type(merged["tags"]) is list

    def test_append_without_parent_list_is_the_child_items(self) -> None:
        """Appending to nothing gives the child's items."""
        assert deep_merge({}, {"tags": Marked(["c"])}, is_append=is_marked) == {"tags": ["c"]}

    def test_null_removes_an_inherited_key(self) -> None:
        """A child's null drops what it inherited (JSON Merge Patch)."""
        parent = {"inject": {"basic_auth": {"username": "u"}, "header": {"A": "1"}}}

        merged = deep_merge(parent, {"inject": {"basic_auth": None}})

        assert merged == {"inject": {"header": {"A": "1"}}}

    def test_mapping_replaces_scalar_and_back(self) -> None:
        """A type change between parent and child is a replacement."""
        assert deep_merge({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
        assert deep_merge({"a": {"b": 2}}, {"a": 1}) == {"a": 1}

    def test_inputs_are_not_changed(self) -> None:
        """Merging copies; the parent stays usable for another child."""
        parent = {"inject": {"header": {"A": "1"}}, "tags": ["a"]}
        deep_merge(
            parent, {"inject": {"header": {"B": "2"}}, "tags": Marked(["b"])}, is_append=is_marked
        )

        assert parent == {"inject": {"header": {"A": "1"}}, "tags": ["a"]}


scalars = st.one_of(st.integers(0, 9), st.sampled_from(["x", "y", ""]), st.booleans())
keys = st.sampled_from(["a", "b", "c", "d"])
trees = st.recursive(
    scalars | st.lists(scalars, max_size=3),
    lambda inner: st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)
documents = st.dictionaries(keys, trees, max_size=3)


@given(parent=documents, child=documents)
def test_every_child_scalar_wins(parent: dict[str, Any], child: dict[str, Any]) -> None:
    """Whatever the parent holds, a child's top-level non-mapping value is the result."""
    merged = deep_merge(parent, child)

    for key, value in child.items():
        if not isinstance(value, dict):
            assert merged[key] == value


@given(parent=documents, child=documents)
def test_parent_only_keys_survive(parent: dict[str, Any], child: dict[str, Any]) -> None:
    """Keys the child does not mention are inherited unchanged."""
    merged = deep_merge(parent, child)

    for key in parent.keys() - child.keys():
        assert merged[key] == parent[key]


@given(document=documents)
def test_empty_child_and_empty_parent_are_identities(document: dict[str, Any]) -> None:
    """Merging with nothing changes nothing."""
    assert deep_merge(document, {}) == plain(document)
    assert deep_merge({}, document) == plain(document)


@given(
    parent_items=st.lists(scalars, max_size=4),
    child_items=st.lists(scalars, max_size=4),
)
def test_append_is_concatenation_in_order(parent_items: list[Any], child_items: list[Any]) -> None:
    """!append keeps every parent item first, then every child item, in order."""
    merged = deep_merge({"x": parent_items}, {"x": Marked(child_items)}, is_append=is_marked)

    assert merged["x"] == [*parent_items, *child_items]
