"""Retrieval quality on ../shared/data (msmarco, business-reports) through ragstore's own ingestion and search, with
floors: the default (hybrid) never below dense on a collection's judged queries, and far above dense on its
exact-token queries (bench/data/exact-tokens, built by bench/exact_tokens.py), where lexical search should win."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragstore.models import DEFAULT_TENANT
from ragstore.service import evaluation, files, ingestion, stores
from ragstore.worker import Worker, ingestion_tasks

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
EXACT = Path(__file__).resolve().parents[2] / "bench" / "data" / "exact-tokens"
RANKERS = ["dense", "lexical", "hybrid"]
# Per collection: judged queries, and floors for dense and lexical nDCG@10 (the test's fp32 model; README, Retrieval
# quality, has the figures).
COLLECTIONS = {"msmarco": (43, 0.70, 0.61), "business-reports": (11, 0.84, 0.74)}
# The default departs from dense only on queries holding a rare term (2 of msmarco's 43, where it gains on one and
# loses on the other: -0.0024 in the mean with this fp32 model, -0.0012 with int8; README, Retrieval quality): one
# query's nDCG moving 0.1 is 0.0023 of the mean. Below dense by more than two such moves is a failure.
TIE = 0.005


def exact_tokens(dataset: evaluation.Dataset, collection: str) -> evaluation.Dataset:
    lines = (EXACT / f"{collection}.jsonl").read_text(encoding="utf-8").split("\n")
    items = [json.loads(line) for line in lines if line.strip()]
    queries = {q["_id"]: q["text"] for q in items}
    return evaluation.Dataset(dataset.corpus, queries, {q["_id"]: {q["corpus_id"]: 1} for q in items})


@pytest.mark.parametrize("collection", list(COLLECTIONS))
def test_the_default_keeps_dense_s_quality_and_wins_on_exact_tokens(db, embedder, chunker, collection):
    folder = DATA / collection
    if not folder.is_dir():
        pytest.skip(f"{folder} is not here")
    dataset = evaluation.load(folder)
    store = stores.create(db, DEFAULT_TENANT, embedder, collection)
    with dataset.corpus.open("rb") as stream:
        corpus = files.upload(db, DEFAULT_TENANT, "corpus.jsonl", stream)
    ingestion.create_batch(db, DEFAULT_TENANT, store, [corpus.id], ingestion.chunking(4096, 0))
    Worker(db, ingestion_tasks(db, embedder, chunker)).drain()
    judged = evaluation.evaluate(db, embedder, DEFAULT_TENANT, store.id, dataset, RANKERS)
    exact = evaluation.evaluate(db, embedder, DEFAULT_TENANT, store.id, exact_tokens(dataset, collection), RANKERS)
    ndcg = {ranker: row["ndcg@10"] for ranker, row in judged.items()}
    on_tokens = {ranker: row["ndcg@10"] for ranker, row in exact.items()}
    queries, dense_floor, lexical_floor = COLLECTIONS[collection]
    assert len(dataset.queries) == queries
    assert ndcg["dense"] >= dense_floor, ndcg
    assert ndcg["lexical"] >= lexical_floor, ndcg
    assert ndcg["hybrid"] >= ndcg["dense"] - TIE, ndcg
    assert on_tokens["lexical"] >= on_tokens["dense"] + 0.2, on_tokens  # the set is what it claims to be
    assert on_tokens["hybrid"] >= on_tokens["dense"] + 0.2, on_tokens
    assert on_tokens["hybrid"] >= on_tokens["lexical"] - 0.05, on_tokens
