"""Supabase-style RPC: the real `supabase` client calling match_documents on ragstore, as seeds 002 and 003 do."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest
from postgrest.exceptions import APIError
from supabase import create_client

from tests.support.documents import corpus

ADMIN = "admin-secret"


def admin(api, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{api.url}/v1/admin{path}", headers={"Authorization": f"Bearer {ADMIN}"}, **kwargs)


def new_tenant(api, name: str) -> tuple[str, str]:
    """(tenant id, API key) of a new tenant."""
    tenant = admin(api, "POST", "/tenants", json={"name": name}).json()
    key = admin(api, "POST", f"/tenants/{name}/api_keys", json={"name": "test"}).json()["key"]
    return tenant["id"], key


@pytest.fixture
def companies(start_server):
    """acme with a store of two documents; globex with a store of its own (of another document)."""
    api = start_server(admin_key=ADMIN, api_key=None)
    (a_id, a_key), (b_id, b_key) = new_tenant(api, "acme"), new_tenant(api, "globex")
    documents = corpus()
    stores = {}
    for key, docs in ((a_key, documents[:2]), (b_key, documents[2:3])):
        client = httpx.Client(base_url=f"{api.url}/v1", headers={"Authorization": f"Bearer {key}"})
        file_ids = [
            client.post("/files", data={"purpose": "assistants"}, files={"file": (d.filename, d.data)}).json()["id"]
            for d in docs
        ]
        store = client.post("/vector_stores", json={"name": "kb", "file_ids": file_ids}).json()
        while client.get(f"/vector_stores/{store['id']}").json()["file_counts"]["in_progress"]:
            time.sleep(0.05)
        stores[key] = store["id"]
    return api, (a_id, a_key, stores[a_key]), (b_id, b_key, stores[b_key]), documents


def embedding(embedder, text: str) -> list[float]:
    return [float(x) for x in embedder.embed([text])[0]]


def test_supabase_client_gets_rows_from_match_documents(companies, embedder):
    api, (a_id, a_key, a_store), _, documents = companies
    supabase = create_client(api.url, a_key)  # seed 002's VectorStore: create_client(SUPABASE_URL, SUPABASE_KEY)
    document = documents[1]
    query_embedding = np.asarray(embedder.embed([document.question])[0])

    # seed 002's call, unchanged
    results = supabase.rpc(
        "match_documents", {"query_embedding": query_embedding.tolist(), "match_threshold": 0.1, "match_count": 4}
    ).execute()

    assert 1 <= len(results.data) <= 4
    best = results.data[0]
    assert set(best) >= {"id", "content", "metadata", "similarity"}
    assert document.passage.lower() in best["content"].lower()
    assert best["metadata"] == {} and best["vector_store_id"] == a_store
    similarities = [row["similarity"] for row in results.data]
    assert similarities == sorted(similarities, reverse=True) and all(s > 0.1 for s in similarities)

    # the same as ragstore's own dense search
    dense = httpx.post(
        f"{api.url}/v1/vector_stores/{a_store}/search",
        headers={"Authorization": f"Bearer {a_key}"},
        json={"query": document.question, "max_num_results": 1, "ranking_options": {"ranker": "none"}},
    ).json()
    assert dense["data"][0]["content"][0]["text"] == best["content"]
    assert dense["data"][0]["score"] == pytest.approx(best["similarity"], abs=2e-3)

    # seed 003: float16 values to match_documents_half, with its company id and a store filter
    half = supabase.rpc(
        "match_documents_half",
        {
            "query_embedding": query_embedding.astype(np.float16).tolist(),
            "company_id": a_id,
            "match_threshold": 0.1,
            "match_count": 2,
            "vector_store_id": a_store,
        },
    ).execute()
    assert [row["id"] for row in half.data] == [row["id"] for row in results.data[:2]]


def test_apikey_header_alone_and_text_vectors(companies, embedder):
    api, (_, a_key, _), _, documents = companies
    vector = "[" + ",".join(f"{x:.6f}" for x in embedding(embedder, documents[0].question)) + "]"
    response = httpx.post(
        f"{api.url}/rest/v1/rpc/match_documents",
        headers={"apikey": a_key},
        json={"query_embedding": vector, "match_count": 1},
    )
    assert response.status_code == 200
    assert documents[0].passage.lower() in response.json()[0]["content"].lower()


def test_errors_come_in_postgrest_shape(companies, embedder):
    api, (_, a_key, _), _, documents = companies
    wrong = create_client(api.url, "sk-wrong")
    with pytest.raises(APIError) as refused:
        wrong.rpc("match_documents", {"query_embedding": [0.1] * 384}).execute()
    assert refused.value.code == "invalid_api_key"

    supabase = create_client(api.url, a_key)
    with pytest.raises(APIError) as bad_dims:
        supabase.rpc("match_documents", {"query_embedding": [0.1] * 768, "match_count": 5}).execute()
    assert bad_dims.value.message == "query_embedding has 768 dimensions; the vector stores searched have 384"
    with pytest.raises(APIError) as unknown:
        supabase.rpc("match_documents", {"query_embedding": [0.1] * 384, "k": 5}).execute()
    assert unknown.value.code == "invalid_value" and "k" in unknown.value.message
    with pytest.raises(APIError) as not_post:
        supabase.rpc("match_documents", {"query_embedding": "[0.1]"}, get=True).execute()
    assert "Method Not Allowed" in not_post.value.message
    for bad in ("[]", "[NaN, 0.1]", '"[0.1, x]"'):
        response = httpx.post(
            f"{api.url}/rest/v1/rpc/match_documents",
            headers={"apikey": a_key, "Content-Type": "application/json"},
            content=f'{{"query_embedding": {bad}}}',
        )
        assert response.status_code == 400 and set(response.json()) == {"code", "details", "hint", "message"}


def test_rpc_never_widens_what_a_key_sees(companies, embedder):
    api, (a_id, a_key, a_store), (b_id, b_key, b_store), documents = companies
    b = create_client(api.url, b_key)
    query = embedding(embedder, documents[1].question)
    mine = b.rpc("match_documents", {"query_embedding": query, "match_count": 50, "match_threshold": -1}).execute().data
    assert mine and {row["vector_store_id"] for row in mine} == {b_store}
    for probe in (
        {"company_id": a_id},
        {"vector_store_id": a_store},
        {"vector_store_ids": [a_store, b_store], "company_id": a_id},
    ):
        for name in ("match_documents", "match_documents_half"):
            rows = (
                b.rpc(name, {"query_embedding": query, "match_count": 50, "match_threshold": -1, **probe})
                .execute()
                .data
            )
            assert rows == [], (name, probe)
