"""ragstore's own: a file's chunks in a store, in order with page numbers, and the lexical ranker of search."""

from __future__ import annotations

import io

import httpx

from tests.api.conftest import API_KEY
from tests.support.documents import pdf_bytes


def test_chunks_in_order_with_pages_and_the_lexical_ranker(start_server):
    server = start_server()
    client = server.client()
    store = client.vector_stores.create(name="manual")
    data = pdf_bytes("Introduction to the office.", "The parking garage opens at seven.")
    file = client.files.create(file=("manual.pdf", io.BytesIO(data)), purpose="assistants")
    client.vector_stores.files.create_and_poll(vector_store_id=store.id, file_id=file.id)

    with httpx.Client(base_url=f"{server.url}/v1", headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        body = http.get(f"/vector_stores/{store.id}/files/{file.id}/chunks").json()
        missing = http.get(f"/vector_stores/{store.id}/files/file-missing/chunks")
    assert body["object"] == "list"
    assert [(c["index"], c["page"], c["text"]) for c in body["data"]] == [
        (0, 1, "Introduction to the office."),
        (1, 2, "The parking garage opens at seven."),
    ]
    assert all(c["object"] == "vector_store.file.chunk" and c["token_count"] > 0 for c in body["data"])
    assert missing.status_code == 404
    assert "file-missing" in missing.json()["error"]["message"]

    found = client.vector_stores.search(store.id, query="parking garage", ranking_options={"ranker": "lexical"})
    # One page holds the words: lexical's score is the share of the query's idf mass it matches (README, What a score
    # means), high for a chunk holding both words, below 1 as the chunk is longer than average.
    assert [hit.filename for hit in found.data] == ["manual.pdf"] and 0.5 < found.data[0].score <= 1
