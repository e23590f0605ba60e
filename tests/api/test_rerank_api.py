"""ranking_options.rerank through the SDK, against a stand-in /rerank endpoint over real HTTP."""

from __future__ import annotations

import io

import openai
import pytest

from tests.support.documents import corpus
from tests.support.rerank_server import rerank_server

QUESTION = "where are staff allowed to park their vehicles?"


@pytest.fixture
def reranker():
    with rerank_server() as server:
        yield server


def make_store(client) -> str:
    store = client.vector_stores.create(name="rerank")
    ids = [client.files.create(file=(d.filename, io.BytesIO(d.data)), purpose="assistants").id for d in corpus()]
    batch = client.vector_stores.file_batches.create_and_poll(vector_store_id=store.id, file_ids=ids)
    assert batch.file_counts.completed == len(ids)
    return store.id


def test_a_reranked_search_follows_the_reranker(start_server, reranker):
    client = start_server(rerank_base_url=reranker.url, rerank_model="stand-in", rerank_candidates=5).client()
    store_id = make_store(client)
    asked = {"ranker": "none", "rerank": True}
    plain = client.vector_stores.search(store_id, query=QUESTION, max_num_results=5, ranking_options={"ranker": "none"})
    assert reranker.requests == []  # off unless asked
    page = client.vector_stores.search(store_id, query=QUESTION, max_num_results=3, ranking_options=asked)
    [request] = reranker.requests
    assert request["model"] == "stand-in" and request["query"] == QUESTION
    assert len(request["documents"]) == request["top_n"] == 5  # the candidates, not max_num_results
    assert request["documents"] == [item.content[0].text for item in plain.data]
    assert [item.filename for item in page.data] == [item.filename for item in plain.data][::-1][:3]
    assert [item.score for item in page.data] == pytest.approx([1.0, 0.8, 0.6])
    cut = {**asked, "score_threshold": 0.7}
    kept = client.vector_stores.search(store_id, query=QUESTION, max_num_results=3, ranking_options=cut)
    assert [item.score for item in kept.data] == pytest.approx([1.0, 0.8])


def test_the_server_may_rerank_by_default_and_a_request_may_decline(start_server, reranker):
    client = start_server(rerank_base_url=reranker.url, rerank_by_default=True).client()
    store_id = make_store(client)
    declined = {"ranker": "none", "rerank": False}
    dense = client.vector_stores.search(store_id, query=QUESTION, max_num_results=50, ranking_options=declined)
    assert reranker.requests == []
    reranked = client.vector_stores.search(
        store_id, query=QUESTION, max_num_results=50, ranking_options={"ranker": "none"}
    )
    assert len(reranker.requests) == 1
    assert reranked.data[0].filename == dense.data[-1].filename  # every chunk a candidate


def test_rerank_without_an_endpoint_and_a_failing_endpoint_are_clear_errors(start_server, reranker):
    client = start_server().client()
    store_id = make_store(client)
    with pytest.raises(openai.BadRequestError, match="RAGSTORE_RERANK_BASE_URL") as refused:
        client.vector_stores.search(store_id, query=QUESTION, ranking_options={"rerank": True})
    assert refused.value.body["param"] == "ranking_options.rerank"
    reranker.fail = True
    failing = start_server(rerank_base_url=reranker.url).client()
    with pytest.raises(openai.InternalServerError, match="reranking endpoint failed") as failed:
        failing.vector_stores.search(store_id, query=QUESTION, ranking_options={"rerank": True})
    assert failed.value.status_code == 502
