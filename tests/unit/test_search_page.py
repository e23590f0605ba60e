"""The search route's JSON, written straight from the hits, is what its pydantic model would write."""

from __future__ import annotations

import json

import pytest

from ragstore.api import objects, search_schemas
from ragstore.models import SearchHit


def hit(text: str = "a passage", score: float = 0.5, attributes: dict | None = None) -> SearchHit:
    return SearchHit(7, "vs_1", "file_1", "notes.txt", 0, None, text, score, attributes)


def pydantic_page(queries: list[str], hits: list[SearchHit]) -> bytes:
    page = search_schemas.VectorStoreSearchResultsPage(
        object="vector_store.search_results.page",
        search_query=queries,
        data=[objects.search_item(h) for h in hits],
        has_more=False,
        next_page=None,
    )
    return page.model_dump_json().encode()


CASES = {
    "none": [],
    "plain": [hit(), hit("second", 0.25)],
    "scores out of range": [hit(score=1.0000002), hit(score=-0.1), hit(score=1.0), hit(score=0.0)],
    "unicode and escapes": [hit('é中😀 "quoted" back\\slash\n\ttab \x01 \x7f </script>')],
    "attributes": [
        hit(attributes={"author": "Ann", "year": 2024, "ok": True, "ratio": 0.25, "neg": -3.5e-7, "small": 1e-5}),
        hit(attributes={"nested": {"a": 1}, "list": [1], "k" * 65: "too long", "s": "x" * 600, "none": None}),
        hit(attributes={}),
        hit(attributes={f"k{i}": i for i in range(20)}),
    ],
}


@pytest.mark.parametrize("name", CASES)
def test_search_page_json_is_the_models_own(name):
    hits = CASES[name]
    for queries in (["what is it"], ["one", "two ü"]):
        assert objects.search_page_json(queries, hits) == pydantic_page(queries, hits)


def test_an_integer_beyond_64_bits_is_the_same_number():
    # orjson refuses it; the json module writes it, and its other floats as 1e-05 where pydantic writes 1e-5.
    hits = [hit(score=1e-5, attributes={"big": 10**20, "neg": -3.5e-7, "tiny": 5e-324, "huge": 1.5e300})]
    ours, theirs = objects.search_page_json(["q"], hits), pydantic_page(["q"], hits)
    assert json.loads(ours) == json.loads(theirs)
