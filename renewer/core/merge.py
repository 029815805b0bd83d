"""How a recipe's ``extends`` combines a parent recipe with a child.

Pure: plain values in, a new plain value out; neither input is changed.
Design: seed 004 §5 ("scalar 覆寫,object 深度合併,array 預設覆寫(可用 !append 標記
append)"), product.md §3.

Rules, each pinned by a test:

* a key only in the parent or only in the child is kept as it is;
* a mapping in both is merged key by key, with these same rules;
* anything else in both (a scalar, a list, a scalar against a mapping) is
  replaced by the child's value;
* a child list marked as *append* (``!append`` in YAML; the caller says which
  lists are marked through *is_append*) is added after the parent's list, so
  the parent's items come first; with no parent list it is the child's items;
* a child value of ``None`` (YAML ``null``) removes the key, so a child can
  drop something it inherited (e.g. a parent's ``basic_auth``), as in JSON
  Merge Patch (RFC 7396).

The result holds plain ``dict`` and ``list`` values only: append markers do
not survive a merge, so a grandchild's plain list replaces an appended list
like any other list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

IsAppend = Callable[[object], bool]


def _never(_value: object) -> bool:
    return False


def deep_merge(
    parent: Mapping[str, Any], child: Mapping[str, Any], *, is_append: IsAppend = _never
) -> dict[str, Any]:
    """Return *parent* overlaid with *child* by the rules in the module docstring."""
    merged: dict[str, Any] = {key: plain(value) for key, value in parent.items()}
    for key, value in child.items():
        if value is None:
            merged.pop(key, None)
            continue
        inherited = merged.get(key)
        if isinstance(value, Mapping) and isinstance(inherited, Mapping):
            merged[key] = deep_merge(inherited, value, is_append=is_append)
        elif isinstance(value, list) and is_append(value):
            base = inherited if isinstance(inherited, list) else []
            merged[key] = [*base, *(plain(item) for item in value)]
        else:
            merged[key] = plain(value)
    return merged


def plain(value: Any) -> Any:
    """A deep copy of *value* made of ``dict``/``list``/scalars only (markers dropped)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
