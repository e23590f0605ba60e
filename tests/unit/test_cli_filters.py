"""`ragstore search --filter`: the short form read as the API's filters."""

from __future__ import annotations

import pytest

from ragstore.cli.documents import parse_filters
from ragstore.errors import RagstoreError


def test_short_forms_become_comparisons_joined_by_and():
    assert parse_filters([]) is None
    assert parse_filters(["team=support"]) == {"type": "eq", "key": "team", "value": "support"}
    assert parse_filters(["year>=2020", 'code="042"', "draft!=true", "score<0.5"]) == {
        "type": "and",
        "filters": [
            {"type": "gte", "key": "year", "value": 2020},
            {"type": "eq", "key": "code", "value": "042"},
            {"type": "ne", "key": "draft", "value": True},
            {"type": "lt", "key": "score", "value": 0.5},
        ],
    }
    assert parse_filters(["url=https://a.example/?q=1"]) == {
        "type": "eq",
        "key": "url",
        "value": "https://a.example/?q=1",
    }


def test_json_is_taken_as_it_is_and_nonsense_is_refused():
    given = '{"type": "or", "filters": [{"type": "eq", "key": "a", "value": 1}]}'
    assert parse_filters([given])["type"] == "or"
    for bad in ("{not json", "[1]", "=value", "novalue"):
        with pytest.raises(RagstoreError):
            parse_filters([bad])
