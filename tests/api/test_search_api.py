"""vector_stores.search through the SDK: queries, nested filters, thresholds, limits, expired stores."""

from __future__ import annotations

import io

import openai
import psycopg
import pytest

from tests.support.documents import corpus


@pytest.fixture
def store(client):
    """A store of every corpus document, each file with attributes to filter on."""
    store = client.vector_stores.create(name="search")
    documents = corpus()
    ids = [client.files.create(file=(d.filename, io.BytesIO(d.data)), purpose="assistants").id for d in documents]
    files = [
        {"file_id": file_id, "attributes": {"index": i, "type": d.filename.rsplit(".", 1)[1], "even": i % 2 == 0}}
        for i, (file_id, d) in enumerate(zip(ids, documents, strict=True))
    ]
    batch = client.vector_stores.file_batches.create_and_poll(vector_store_id=store.id, files=files)
    assert batch.file_counts.completed == len(documents)
    return store


def names(page) -> list[str]:
    return [item.filename for item in page.data]


def test_a_paraphrase_finds_its_passage(client, store):
    for document in corpus():
        page = client.vector_stores.search(store.id, query=document.question, max_num_results=1)
        assert page.object == "vector_store.search_results.page" and page.search_query == [document.question]
        assert names(page) == [document.filename] and document.passage in page.data[0].content[0].text
        assert page.data[0].content[0].type == "text" and 0 < page.data[0].score <= 1


def test_scores_are_ordered_and_the_threshold_applies(client, store):
    page = client.vector_stores.search(store.id, query="reset my password", max_num_results=8)
    scores = [item.score for item in page.data]
    assert len(scores) == 8 and scores == sorted(scores, reverse=True)
    cut = (scores[0] + scores[1]) / 2
    kept = client.vector_stores.search(
        store.id,
        query="reset my password",
        max_num_results=8,
        ranking_options={"ranker": "auto", "score_threshold": cut},
    )
    assert [item.score for item in kept.data] == [s for s in scores if s >= cut]


def test_nested_filters(client, store):
    query = "company policies"
    by_type = client.vector_stores.search(
        store.id, query=query, max_num_results=50, filters={"type": "eq", "key": "type", "value": "pdf"}
    )
    assert set(names(by_type)) == {"expenses.pdf"}
    nested = client.vector_stores.search(
        store.id,
        query=query,
        max_num_results=50,
        filters={
            "type": "or",
            "filters": [
                {
                    "type": "and",
                    "filters": [
                        {"type": "gte", "key": "index", "value": 2},
                        {"type": "lt", "key": "index", "value": 4},
                    ],
                },
                {"type": "in", "key": "type", "value": ["json", "jsonl"]},
            ],
        },
    )
    assert set(names(nested)) == {"parking.html", "expenses.pdf", "gym.json", "laptops.jsonl"}
    odd_not_md = client.vector_stores.search(
        store.id,
        query=query,
        max_num_results=50,
        filters={
            "type": "and",
            "filters": [
                {"type": "eq", "key": "even", "value": False},
                {"type": "nin", "key": "type", "value": ["md", "docx"]},
            ],
        },
    )
    assert set(names(odd_not_md)) == {"expenses.pdf", "offices.csv", "laptops.jsonl"}
    none = client.vector_stores.search(
        store.id, query=query, filters={"type": "ne", "key": "even", "value": True}, max_num_results=50
    )
    assert {item.attributes["even"] for item in none.data} == {False}


def test_queries_as_an_array_and_rewrite_query(client, store):
    page = client.vector_stores.search(
        store.id, query=["gym opening hours", "fitness centre at night"], rewrite_query=True, max_num_results=1
    )
    assert page.search_query == ["gym opening hours", "fitness centre at night"] and names(page) == ["gym.json"]


@pytest.mark.parametrize(
    "bad",
    [
        {"max_num_results": 0},
        {"max_num_results": 51},
        {"filters": {"type": "gt", "key": "index", "value": True}},
        {"filters": {"type": "and", "filters": []}},
        {"ranking_options": {"ranker": "best"}},
    ],
)
def test_bad_searches_are_bad_requests(client, store, bad):
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.search(store.id, query="x", **bad)


def test_an_expired_store_says_so(client, store, api):
    with psycopg.connect(api.settings.database_url, autocommit=True) as conn:
        conn.execute("UPDATE vector_stores SET expires_at = now() - interval '1 minute' WHERE id = %s", (store.id,))
    assert client.vector_stores.retrieve(store.id).status == "expired"
    with pytest.raises(openai.BadRequestError, match="expired"):
        client.vector_stores.search(store.id, query="anything")
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.search("vs_missing", query="anything")


def test_the_lexical_ranker_scores_the_share_of_the_query_matched(client, store):
    lexical = {"ranker": "lexical"}
    page = client.vector_stores.search(store.id, query="reset password", ranking_options=lexical)
    assert names(page)[0] == "account.md"
    assert all(0 < item.score <= 1 for item in page.data)
    # Two more words, held nowhere and so weightier than any held word: less than half the share it had.
    half = client.vector_stores.search(store.id, query="reset password zyxwv qwxzy", ranking_options=lexical)
    assert names(half)[0] == "account.md" and half.data[0].score < page.data[0].score / 2
    assert client.vector_stores.search(store.id, query="zyxwv", ranking_options=lexical).data == []
