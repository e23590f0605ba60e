"""Stores created in an embedding space of their own through the SDK's extra_body (issue 18): a remote model of 768
or 1536 dimensions served by a named endpoint (the stand-in embeddings server, real HTTP), ingested and searched in
it; a dimension or model the endpoint does not return refused before anything is stored."""

from __future__ import annotations

import io
import json

import openai
import psycopg
import pytest

from tests.support.documents import corpus
from tests.support.embeddings_server import embeddings_server

MODELS = {"nomic-embed-text": 768, "text-embedding-3-small": 1536}


@pytest.fixture
def remote(embedder):
    with embeddings_server(embedder, models=MODELS) as server:
        yield server


@pytest.fixture
def api(start_server, remote):
    return start_server(embedding_providers={"ollama": {"base_url": remote.url}})


def store_in(client, model: str, dimension: int | None = None, **fields):
    body = {"embedding_model": model, "provider_id": "ollama", **fields}
    if dimension is not None:
        body["embedding_dimension"] = dimension
    return client.vector_stores.create(name=model, extra_body=body)


def fill(client, store, documents=None) -> None:
    documents = documents or corpus()
    ids = [client.files.create(file=(d.filename, io.BytesIO(d.data)), purpose="assistants").id for d in documents]
    batch = client.vector_stores.file_batches.create_and_poll(vector_store_id=store.id, file_ids=ids)
    assert batch.file_counts.completed == len(documents)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_store_in_a_remote_space_is_filled_and_searched_with_its_model(client, remote, api, model):
    dimension = MODELS[model]
    store = store_in(client, model, dimension)
    extra = store.model_extra or {}
    assert (extra["embedding_model"], extra["embedding_dimension"], extra["provider_id"]) == (
        model,
        dimension,
        "ollama",
    )
    assert client.vector_stores.retrieve(store.id).model_extra["embedding_dimension"] == dimension
    fill(client, store)
    embedded = [r for r in remote.requests if r["model"] == model]
    assert len(embedded) >= 2  # the probe, then ingestion
    if model.startswith("text-embedding-3"):
        assert all(r["dimensions"] == dimension for r in embedded)  # the model that takes one is told its dimension
    else:
        assert all(r["dimensions"] is None for r in embedded)
    before = len(remote.requests)
    for document in corpus():
        page = client.vector_stores.search(store.id, query=document.question, max_num_results=1)
        assert [item.filename for item in page.data] == [document.filename]
    assert len(remote.requests) > before  # queries were embedded by the store's model
    with psycopg.connect(api.settings.database_url) as conn:
        dims = conn.execute(
            "SELECT DISTINCT vector_dims(v.embedding) FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id "
            "WHERE c.vector_store_id = %s",
            [store.id],
        ).fetchall()
        primary = conn.execute(
            "SELECT count(*) FROM chunks WHERE vector_store_id = %s AND embedding IS NOT NULL", [store.id]
        ).fetchone()
    assert dims == [(dimension,)] and primary == (0,)


def test_without_extensions_the_server_model_applies(client):
    store = client.vector_stores.create(name="default")
    assert store.model_extra == {
        "embedding_model": "all-MiniLM-L6-v2",
        "embedding_dimension": 384,
        "provider_id": "local",
    }
    local = client.vector_stores.create(name="local", extra_body={"provider_id": "local", "embedding_dimension": 384})
    assert local.model_extra["provider_id"] == "local"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {"embedding_model": "nomic-embed-text", "provider_id": "ollama", "embedding_dimension": 1024},
            "embedding_dimension",
        ),
        ({"embedding_model": "no-such-model", "provider_id": "ollama"}, "embedding_model"),
        ({"embedding_model": "nomic-embed-text", "provider_id": "nowhere"}, "provider_id"),
        ({"provider_id": "ollama"}, "embedding_model"),
        ({"embedding_model": "nomic-embed-text", "provider_id": "local"}, "embedding_model"),
        ({"provider_id": "local", "embedding_dimension": 768}, "embedding_dimension"),
        (
            {"embedding_model": "nomic-embed-text", "provider_id": "ollama", "embedding_dimension": 5000},
            "embedding_dimension",
        ),
    ],
)
def test_a_wrong_model_dimension_or_provider_is_refused_with_nothing_written(client, api, body, param):
    with pytest.raises(openai.BadRequestError) as caught:
        client.vector_stores.create(name="refused", extra_body=body)
    error = caught.value.body
    assert error["param"] == param or param in json.dumps(error), error
    with psycopg.connect(api.settings.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM vector_stores").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM embedding_spaces").fetchone() == (0,)


def test_stores_in_different_spaces_are_searched_together(client):
    """file_search over a 384-d local store, a 768-d and a 1536-d one: each space searched with its own query
    embedding, merged by rank (every space's best first)."""
    documents = corpus()
    created = [
        client.vector_stores.create(name="local"),
        store_in(client, "nomic-embed-text", 768),
        store_in(client, "text-embedding-3-small", 1536),
    ]
    for i, store in enumerate(created):
        fill(client, store, documents[i::3])
    ids = [store.id for store in created]
    owners = {d.filename: j % 3 for j, d in enumerate(documents)}
    for document in documents:
        response = client.responses.create(
            model="m",
            input=document.question,
            tools=[{"type": "file_search", "vector_store_ids": ids, "max_num_results": 6}],
            include=["file_search_call.results"],
        )
        results = response.output[0].results
        assert document.filename in [r.filename for r in results[:3]]
        assert {owners[r.filename] for r in results[:3]} == {0, 1, 2}  # every space's best comes first


@pytest.mark.parametrize(
    "extra",
    [
        {"search_mode": "vector"},
        {"search_mode": "keyword"},
        {"search_mode": "hybrid"},
        {"search_mode": "hybrid", "ranking_options": {"ranker": "rrf", "impact_factor": 30}},
        {"ranking_options": {"ranker": "weighted", "alpha": 0.7}},
        {"ranking_options": {"ranker": "rrf"}},
    ],
)
def test_ogx_search_options_map_onto_the_rankers(client, remote, extra):
    store = store_in(client, "nomic-embed-text", 768)
    fill(client, store)
    document = corpus()[1]
    page = client.vector_stores.search(store.id, query=document.question, max_num_results=3, extra_body=extra)
    assert page.data[0].filename == document.filename and 0 < page.data[0].score <= 1
    scores = [item.score for item in page.data]
    assert scores == sorted(scores, reverse=True)


def test_search_modes_are_the_rankers_they_name(client):
    store = client.vector_stores.create(name="modes")
    fill(client, store)
    query = "espresso maker cleaning rota"

    def search(**options):
        return [
            (i.file_id, round(i.score, 6)) for i in client.vector_stores.search(store.id, query=query, **options).data
        ]

    assert search(extra_body={"search_mode": "keyword"}) == search(ranking_options={"ranker": "lexical"})
    assert search(extra_body={"search_mode": "vector"}) == search(ranking_options={"ranker": "none"})
    rrf = search(extra_body={"ranking_options": {"ranker": "rrf", "impact_factor": 60}})
    assert rrf != search(ranking_options={"ranker": "auto"}) and rrf[0][1] <= 1


def test_bad_ogx_search_options_are_refused(client):
    store = client.vector_stores.create(name="bad")
    for extra in [
        {"search_mode": "semantic"},
        {"ranking_options": {"ranker": "rrf", "impact_factor": 0}},
        {"ranking_options": {"ranker": "weighted", "alpha": 1.5}},
    ]:
        with pytest.raises(openai.BadRequestError):
            client.vector_stores.search(store.id, query="q", extra_body=extra)
