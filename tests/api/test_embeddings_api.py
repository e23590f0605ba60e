"""/v1/embeddings through the official SDK: the vectors ragstore searches with, base64 (the SDK's default) or floats."""

from __future__ import annotations

import io

import numpy as np
import openai
import pytest

from tests.support.documents import corpus

MODEL = "all-MiniLM-L6-v2"


def test_the_vectors_are_those_a_search_scores_with(client):
    document = corpus()[0]
    store = client.vector_stores.create(name="kb")
    uploaded = client.files.create(file=(document.filename, io.BytesIO(document.data)), purpose="assistants")
    client.vector_stores.files.create_and_poll(vector_store_id=store.id, file_id=uploaded.id)
    hit = client.vector_stores.search(
        store.id, query=document.question, max_num_results=1, ranking_options={"ranker": "none"}
    ).data[0]

    given = client.embeddings.create(model=MODEL, input=[document.question, hit.content[0].text])
    assert given.model == MODEL and [item.index for item in given.data] == [0, 1]
    query, passage = (np.array(item.embedding) for item in given.data)
    assert query.shape == (384,) and abs(np.linalg.norm(query) - 1) < 1e-5
    # The dense score is the cosine of the stored halfvec and the query: the same model, the same vectors.
    assert float(query @ passage) == pytest.approx(hit.score, abs=2e-3)
    assert given.usage.prompt_tokens == given.usage.total_tokens > len(document.question.split())

    floats = client.embeddings.create(model=MODEL, input=document.question, encoding_format="float")
    assert np.allclose(floats.data[0].embedding, query, atol=1e-6)


def test_what_cannot_be_served_is_a_400_naming_the_field(client):
    cases = [
        ({"model": "text-embedding-3-small", "input": "hi"}, "model"),
        ({"model": MODEL, "input": "hi", "dimensions": 256}, "dimensions"),
        ({"model": MODEL, "input": [[1, 2, 3]]}, "input"),
        ({"model": MODEL, "input": []}, "input"),
        ({"model": MODEL, "input": ["fine", "  "]}, "input"),
        ({"model": MODEL, "input": ["x"] * 2049}, "input"),
        ({"model": MODEL, "input": "x" * 50_001}, "input"),
    ]
    for body, param in cases:
        with pytest.raises(openai.BadRequestError) as caught:
            client.embeddings.create(**body)
        assert caught.value.body["param"] == param, body
        assert caught.value.body["type"] == "invalid_request_error"
