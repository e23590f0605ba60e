"""Backup and restore of a store in a space of its own (issue 18): a 1536-d store made through the SDK, from the
stand-in embeddings server (real HTTP), archived with its space and vectors, restored into a fresh database in a
space of the same shape with its index, found by the same searches, verified; refused where no endpoint of that
name is configured."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import psycopg
import pytest

from ragstore.archive import dump, load, verify
from ragstore.config import Settings
from ragstore.errors import InvalidRequest
from ragstore.models import DEFAULT_TENANT
from ragstore.service import search
from ragstore.store.db import open_database
from tests.api.test_store_spaces_api import MODELS, fill, store_in
from tests.support.documents import corpus
from tests.support.embeddings_server import embeddings_server

MODEL = ("all-MiniLM-L6-v2", 384)


@pytest.fixture
def remote(embedder):
    with embeddings_server(embedder, models=MODELS) as server:
        yield server


@pytest.fixture
def api(start_server, remote):
    return start_server(embedding_providers={"ollama": {"base_url": remote.url}})


def hits(db, embedder, store_id: str) -> list[tuple]:
    return [
        (hit.file_id, hit.chunk_index, round(hit.score, 4))
        for document in corpus()
        for hit in search.search(db, embedder, DEFAULT_TENANT, [store_id], document.question, 3, ranker="dense")
    ]


def test_a_1536_d_store_is_restored_in_its_space_and_searched_alike(
    client, api, remote, embedder, empty_database_url, tmp_path
):
    store = store_in(client, "text-embedding-3-small", 1536)
    fill(client, store)
    settings = Settings(
        database_url=empty_database_url,
        data_dir=tmp_path / "t",
        embedding_providers={"ollama": {"base_url": remote.url}},
    )
    source, target = open_database(api.settings), open_database(settings)
    try:
        archive = tmp_path / "store.zip"
        report = dump.backup(source, dump.resolve_scope(source, None, [store.id]), archive)
        with zipfile.ZipFile(archive) as opened:
            manifest = json.loads(opened.read("manifest.json"))
            vectors = np.load(io.BytesIO(opened.read(f"embeddings/{store.id}.npy")))
        assert manifest["format_version"] == 2
        assert manifest["vector_stores"][store.id]["space"] == {
            "provider_id": "ollama",
            "model": "text-embedding-3-small",
            "dimension": 1536,
            "base_url": remote.url,
            "api_key_env": None,
        }
        assert vectors.shape == (report.counts["chunks"], 1536)

        with pytest.raises(InvalidRequest, match="from the endpoint 'ollama', which this ragstore does not have"):
            load.restore(target, archive, MODEL)
        load.restore(target, archive, MODEL, providers=settings.embedding_providers)

        assert hits(target, embedder, store.id) == hits(source, embedder, store.id)
        checks = verify.verify(target, embedder, archive, samples=3)
        assert [c for c in checks if c.status != "pass"] == []
        assert any(c.name == f"space {store.id}" and "1536-d, from ollama" in c.detail for c in checks)
    finally:
        source.close()
        target.close()
    with psycopg.connect(empty_database_url) as conn:
        space = conn.execute(
            "SELECT s.id, s.model, s.dimension, s.provider_id, s.location, s.state FROM embedding_spaces s "
            "JOIN vector_stores v ON v.active_space_id = s.id WHERE v.id = %s",
            [store.id],
        ).fetchone()
        in_space = conn.execute(
            "SELECT count(*), min(vector_dims(embedding)) FROM chunk_vectors WHERE space_id = %s", [space[0]]
        ).fetchone()
        primary = conn.execute(
            "SELECT count(*) FROM chunks WHERE vector_store_id = %s AND embedding IS NOT NULL", [store.id]
        ).fetchone()
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            [f"chunk_vectors_hnsw_{space[0].removeprefix('emb_')}"],
        ).fetchone()
    assert space[1:] == ("text-embedding-3-small", 1536, "ollama", "vectors", "active")
    assert in_space == (report.counts["chunks"], 1536) and primary == (0,)
    assert index is not None and "halfvec(1536)" in index[0]
