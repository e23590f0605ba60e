"""Issue 21's findings, one probe each, over HTTP: raw JSON through httpx (what the SDK would never send) and the
official SDK. Each bad request gets a 4xx in the envelope naming the field (`param`), never a 5xx, and nothing of it
is stored. Each bound is also shown to let through a value exactly at it (where that is cheap), so that a test fails
if a bound is set tighter than the README's limits table says."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from ragstore.api import limits
from tests.api.conftest import API_KEY


def raw(api, method: str, path: str, body: Any = None, *, text: str | None = None) -> httpx.Response:
    """One request with a JSON body as given (text: the body's exact characters, e.g. an escaped lone surrogate)."""
    content = text.encode() if text is not None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    return httpx.request(method, f"{api.url}{path}", content=content, headers=headers, timeout=60)


def refused(response: httpx.Response, param: str | None, status: int = 400) -> dict[str, Any]:
    """The response is the envelope's 4xx naming param; its error."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error", error
    assert error["param"] == param, error
    assert "Traceback" not in response.text
    return error


def count(api, path: str) -> int:
    return len(raw(api, "GET", f"{path}?limit=100").json()["data"]) if path else 0


@pytest.fixture
def store_id(client) -> str:
    return client.vector_stores.create(name="limits").id


# ---------------------------------------------------------------------------------------------------------------------
# A lone surrogate anywhere in a JSON body


@pytest.mark.parametrize(
    ("text", "param"),
    [
        ('{"query": "x", "filters": {"type": "eq", "key": "k", "value": "\\ud800"}}', "filters.value"),
        ('{"query": "x", "filters": {"type": "in", "key": "k", "value": ["a", "\\udfff"]}}', "filters.value.1"),
        ('{"query": "caf\\ud800e"}', "query"),
        ('{"query": ["ok", "\\ud800"]}', "query.1"),
    ],
)
def test_a_lone_surrogate_in_a_search_is_a_400_naming_the_field(api, store_id, text, param):
    refused(raw(api, "POST", f"/v1/vector_stores/{store_id}/search", text=text), param)


def test_a_lone_surrogate_in_a_name_or_metadata_stores_nothing(api):
    refused(raw(api, "POST", "/v1/vector_stores", text='{"name": "a\\udc00b"}'), "name")
    refused(raw(api, "POST", "/v1/vector_stores", text='{"metadata": {"k\\ud800": "v"}}'), "metadata")
    refused(
        raw(api, "POST", "/v1/conversations", text='{"items": [{"role": "user", "content": "\\ud83d"}]}'),
        "items.0.content",
    )
    assert count(api, "/v1/vector_stores") == 0
    assert count(api, "/v1/conversations") == 0


def test_a_surrogate_pair_is_one_good_character(api):
    response = raw(api, "POST", "/v1/vector_stores", text='{"name": "coffee \\ud83d\\ude00"}')
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "coffee \U0001f600"


# ---------------------------------------------------------------------------------------------------------------------
# Lengths: names, descriptions, queries, filters, conversations


def test_a_store_name_or_description_over_its_bound_is_a_400_and_nothing_is_stored(api, client):
    for field, bound in (("name", limits.NAME_CHARS), ("description", limits.DESCRIPTION_CHARS)):
        refused(raw(api, "POST", "/v1/vector_stores", {field: "n" * (bound + 1)}), field)
        assert raw(api, "POST", "/v1/vector_stores", {field: "n" * bound}).status_code == 200
    store = client.vector_stores.create(name="kept")
    refused(raw(api, "POST", f"/v1/vector_stores/{store.id}", {"name": "n" * (limits.NAME_CHARS + 1)}), "name")
    assert client.vector_stores.retrieve(store.id).name == "kept"
    with pytest.raises(openai.BadRequestError) as refusal:
        client.vector_stores.create(name="x" * 1_000_000)  # was a 503 ("index row requires 11496 bytes"), retried
    assert refusal.value.body["param"] == "name"
    assert count(api, "/v1/vector_stores") == 3


def test_a_huge_description_is_refused_before_it_is_read(api):
    """20,000,000 characters were accepted and stored; the route's body bound now refuses them unread."""
    refused(raw(api, "POST", "/v1/vector_stores", {"description": "d" * 2_000_000}), None, status=413)
    assert count(api, "/v1/vector_stores") == 0


def test_search_queries_are_bounded(api, client, store_id):
    path = f"/v1/vector_stores/{store_id}/search"
    refused(raw(api, "POST", path, {"query": "w " * limits.QUERY_CHARS}), "query")
    refused(raw(api, "POST", path, {"query": ["coffee"] * (limits.QUERY_ITEMS + 1)}), "query")
    refused(raw(api, "POST", path, {"query": ["fine", "w" * (limits.QUERY_CHARS + 1)]}), "query")
    assert raw(api, "POST", path, {"query": ["coffee"] * limits.QUERY_ITEMS}).status_code == 200
    # 200,000 distinct words were a 503 ("string is too long for tsvector"), which the SDK retried: now the body's
    # bound refuses them unread, and half as many words are refused by the query's bound.
    with pytest.raises(openai.APIStatusError) as too_large:
        client.vector_stores.search(store_id, query=" ".join(f"w{i}" for i in range(200_000)))
    assert (too_large.value.status_code, too_large.value.body["code"]) == (413, "request_too_large")
    with pytest.raises(openai.BadRequestError) as refusal:
        client.vector_stores.search(store_id, query=" ".join(f"w{i}" for i in range(100_000)))
    assert refusal.value.body["param"] == "query"


def test_in_and_nin_lists_are_bounded(api, store_id):
    path = f"/v1/vector_stores/{store_id}/search"

    def search(filters: dict[str, Any]) -> httpx.Response:
        return raw(api, "POST", path, {"query": "coffee", "filters": filters})

    over = list(range(limits.FILTER_LIST_ITEMS + 1))
    refused(search({"type": "in", "key": "k", "value": over}), "filters")
    assert search({"type": "in", "key": "k", "value": over[:-1]}).status_code == 200
    many = {"type": "and", "filters": [{"type": "nin", "key": "k", "value": over[:-1]}] * 3}
    refused(search(many), "filters")  # each list within its bound, their total above FILTER_ITEMS
    refused(search({"type": "eq", "key": "k", "value": "v" * (limits.ATTRIBUTE_VALUE_CHARS + 1)}), "filters")


@pytest.mark.parametrize("depth", [50, 900, 30_000])  # 30,000: just under the body bound
def test_a_filter_nested_past_any_bound_is_a_400(api, store_id, depth):
    """Past the filters' 10 levels, past pydantic's recursion guard, past the JSON parser's: a 400 each time."""
    text = (
        '{"query": "x", "filters": ' + '{"type": "and", "filters": [' * depth + '{"type": "eq", "key": "k", "value": 1}'
    )
    text += "]}" * depth + "}"
    response = raw(api, "POST", f"/v1/vector_stores/{store_id}/search", text=text)
    assert response.status_code == 400, response.text[:300]
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_conversation_content_and_items_are_bounded(api):
    long = "c" * (limits.ITEM_CHARS + 1)
    refused(raw(api, "POST", "/v1/conversations", {"items": [{"role": "user", "content": long}]}), "items.0.content")
    parts = [{"type": "input_text", "text": "p" * 1000}] * (limits.ITEM_PARTS + 1)
    refused(raw(api, "POST", "/v1/conversations", {"items": [{"role": "user", "content": parts}]}), "items.0.content")
    split = [{"type": "input_text", "text": "p" * (limits.ITEM_CHARS // 2 + 1)}] * 2  # each part within, not together
    refused(raw(api, "POST", "/v1/conversations", {"items": [{"role": "user", "content": split}]}), "items.0.content")
    items = [{"role": "user", "content": "hello"}] * (limits.CONVERSATION_ITEMS + 1)
    refused(raw(api, "POST", "/v1/conversations", {"items": items}), "items")
    assert count(api, "/v1/conversations") == 0
    at_bound = [{"role": "user", "content": "c" * limits.ITEM_CHARS}]
    created = raw(api, "POST", "/v1/conversations", {"items": at_bound})
    assert created.status_code == 200, created.text
    conversation = created.json()["id"]
    refused(
        raw(api, "POST", f"/v1/conversations/{conversation}/items", {"items": [{"role": "user", "content": long}]}),
        "items.0.content",
    )
    assert len(raw(api, "GET", f"/v1/conversations/{conversation}/items").json()["data"]) == 1


def test_a_json_body_over_its_route_bound_is_a_413(api, store_id):
    bound = limits.body_bytes("POST", f"/v1/vector_stores/{store_id}/search")
    filler = {"query": "coffee", "filters": {"type": "eq", "key": "k", "value": "v" * bound}}
    refused(raw(api, "POST", f"/v1/vector_stores/{store_id}/search", filler), None, status=413)


# ---------------------------------------------------------------------------------------------------------------------
# Strict types


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"query": "coffee", "max_num_results": "10"}, "max_num_results"),
        ({"query": "coffee", "max_num_results": True}, "max_num_results"),
        ({"query": "coffee", "max_num_results": 10.0}, "max_num_results"),
        ({"query": "coffee", "rewrite_query": "false"}, "rewrite_query"),
        ({"query": "coffee", "rewrite_query": 0}, "rewrite_query"),
        ({"query": "coffee", "ranking_options": {"score_threshold": "0.5"}}, "ranking_options.score_threshold"),
    ],
)
def test_numbers_and_booleans_are_strict(api, store_id, body, param):
    refused(raw(api, "POST", f"/v1/vector_stores/{store_id}/search", body), param)


def test_the_sdk_still_sends_good_types(client, store_id):
    page = client.vector_stores.search(
        store_id, query="coffee", max_num_results=3, rewrite_query=False, ranking_options={"score_threshold": 0.5}
    )
    assert page.data == []
    expiring = client.vector_stores.create(name="e", expires_after={"anchor": "last_active_at", "days": 2})
    assert expiring.expires_after.days == 2
