"""The limits table (api/limits.py) is what the README says and what the code checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragstore.api import limits
from ragstore.api.strings import unstorable
from ragstore.service import search
from ragstore.store import filters

README = Path(__file__).parents[2] / "README.md"


@pytest.mark.parametrize("bound", limits.BOUNDS, ids=lambda bound: bound.what)
def test_the_readme_lists_every_bound(bound):
    assert f"| {bound.what} | {bound.value:,} {bound.unit} |" in README.read_text()


def test_the_table_holds_every_bound_of_the_module():
    constants = {name: value for name, value in vars(limits).items() if name.isupper() and isinstance(value, int)}
    listed = {bound.value for bound in limits.BOUNDS}
    units = {"KB", "MB"}
    assert {name for name, value in constants.items() if value not in listed and name not in units} == set()


def test_the_bounds_checked_elsewhere_are_the_tables():
    assert (limits.FILTER_DEPTH, limits.FILTER_COMPARISONS) == (filters.MAX_DEPTH, filters.MAX_COMPARISONS)
    assert limits.MAP_KEY_CHARS == filters.MAX_KEY_LENGTH
    assert limits.MAX_RESULTS == search.MAX_RESULTS


@pytest.mark.parametrize(
    ("method", "path", "size"),
    [
        ("POST", "/v1/vector_stores", limits.JSON_BODY_BYTES),
        ("POST", "/v1/vector_stores/vs_1/search", limits.JSON_BODY_BYTES),
        ("POST", "/v1/vector_stores/vs_1/file_batches", limits.LARGE_JSON_BODY_BYTES),
        ("POST", "/v1/vector_stores/vs_1/file_batches/vsfb_1/cancel", limits.JSON_BODY_BYTES),
        ("POST", "/v1/conversations", limits.LARGE_JSON_BODY_BYTES),
        ("POST", "/v1/conversations/conv_1", limits.LARGE_JSON_BODY_BYTES),
        ("POST", "/v1/conversations/conv_1/items", limits.LARGE_JSON_BODY_BYTES),
        ("POST", "/v1/conversations/conv_1/items/msg_1/feedback", limits.JSON_BODY_BYTES),
        ("GET", "/v1/conversations", limits.JSON_BODY_BYTES),
    ],
)
def test_each_route_has_its_body_bound(method, path, size):
    assert limits.body_bytes(method, path) == size


def test_a_nul_or_a_lone_surrogate_is_found_wherever_it_is():
    assert unstorable({"a": ["ok", {"b": "x\ud800"}]}) == (("a", 1, "b"), "\ud800")
    assert unstorable({"m": {"k\udfff": "v"}}) == (("m",), "\udfff")
    assert unstorable({"name": "nul\x00"}) == (("name",), "\x00")
    assert unstorable({"a": "coffee \U0001f600", "b": [1, 2.5, None, True]}) is None
    deep: list = []
    for _ in range(100_000):  # deeper than Python's recursion allows
        deep = [deep]
    assert unstorable(deep) is None
