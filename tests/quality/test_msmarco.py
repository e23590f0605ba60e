"""Retrieval quality on ../shared/data/msmarco through ragstore's own ingestion and search, with floors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragstore.models import DEFAULT_TENANT
from ragstore.service import evaluation, files, ingestion, stores
from ragstore.worker import Worker, ingestion_tasks

DATASET = Path(__file__).resolve().parents[3] / "shared" / "data" / "msmarco"


@pytest.mark.skipif(not DATASET.is_dir(), reason=f"{DATASET} is not here")
def test_msmarco_floors(db, embedder, chunker):
    dataset = evaluation.load(DATASET)
    store = stores.create(db, DEFAULT_TENANT, embedder, "msmarco")
    with dataset.corpus.open("rb") as stream:
        corpus = files.upload(db, DEFAULT_TENANT, "corpus.jsonl", stream)
    ingestion.create_batch(db, DEFAULT_TENANT, store, [corpus.id], ingestion.chunking(4096, 0))
    Worker(db, ingestion_tasks(db, embedder, chunker)).drain()
    results = evaluation.evaluate(db, embedder, DEFAULT_TENANT, store.id, dataset, ["dense", "lexical", "hybrid"])
    ndcg = {ranker: row["ndcg@10"] for ranker, row in results.items()}
    assert len(dataset.queries) == 43
    assert ndcg["dense"] >= 0.70, ndcg
    assert ndcg["lexical"] >= 0.61, ndcg
    assert ndcg["hybrid"] >= ndcg["dense"], ndcg
