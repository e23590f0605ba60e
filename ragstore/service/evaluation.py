"""`ragstore eval`: a BEIR dataset through ragstore's own ingestion and search, scored per ranker."""

from __future__ import annotations

import csv
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ragstore.errors import InvalidRequest
from ragstore.ingest.embed import Embedder
from ragstore.service import relevance, search
from ragstore.store.db import Database

# recall@100 needs the deepest ranking search() allows.
DEPTH = search.DEPTH_MAX


@dataclass(frozen=True)
class Dataset:
    """BEIR's layout: corpus.jsonl, queries.jsonl, qrels/test.tsv."""

    corpus: Path
    queries: dict[str, str]
    judgments: dict[str, dict[str, int]]


def load(folder: Path) -> Dataset:
    corpus, queries, qrels = folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / "test.tsv"
    for path in (corpus, queries, qrels):
        if not path.is_file():
            raise InvalidRequest(f"{folder} is not a BEIR dataset: {path.relative_to(folder)} is missing.")
    judgments: dict[str, dict[str, int]] = {}
    with qrels.open(newline="") as stream:
        for row in csv.reader(stream, delimiter="\t"):
            if len(row) >= 3 and row[2].lstrip("-").isdigit():  # skips the header line, if any
                judgments.setdefault(row[0], {})[row[1]] = int(row[2])
    texts = {}
    for line in queries.read_text(encoding="utf-8").split("\n"):  # not splitlines(): U+2028 may appear
        if line.strip():
            item = json.loads(line)
            texts[str(item["_id"])] = item["text"]
    return Dataset(corpus, {qid: text for qid, text in texts.items() if qid in judgments}, judgments)


def sweep(
    db: Database, embedder: Embedder, tenant_id: str, store_id: str, dataset: Dataset, alphas: Sequence[float]
) -> dict[float, dict[str, float]]:
    """Hybrid nDCG@10 for each alpha on each half of the queries: choose on one half, check on the other."""
    ids = sorted(dataset.queries)
    halves = {"first": set(ids[: len(ids) // 2]), "second": set(ids[len(ids) // 2 :])}
    found = {}
    for alpha in alphas:
        per_query = {}
        for qid, text in dataset.queries.items():
            hits = search.search(db, embedder, tenant_id, [store_id], text, k=10, ranker="hybrid", alpha=alpha)
            ranking = list(dict.fromkeys(str(hit.attributes.get("_id")) for hit in hits))
            per_query[qid] = relevance.ndcg(ranking, dataset.judgments[qid], 10)
        found[alpha] = {half: statistics.mean(per_query[q] for q in members) for half, members in halves.items()}
    return found


def evaluate(
    db: Database, embedder: Embedder, tenant_id: str, store_id: str, dataset: Dataset, rankers: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Per ranker: nDCG@10, recall@10, recall@100, MRR@10 and query latency, over the judged queries."""
    results = {}
    for ranker in rankers:
        scores: dict[str, list[float]] = {"ndcg@10": [], "recall@10": [], "recall@100": [], "mrr@10": []}
        latencies = []
        for qid, text in dataset.queries.items():
            began = time.perf_counter()
            hits = search.search(db, embedder, tenant_id, [store_id], text, k=DEPTH, ranker=ranker)
            latencies.append((time.perf_counter() - began) * 1000)
            ranking = list(dict.fromkeys(str(hit.attributes.get("_id")) for hit in hits))
            judged = dataset.judgments[qid]
            scores["ndcg@10"].append(relevance.ndcg(ranking, judged, 10))
            scores["recall@10"].append(relevance.recall(ranking, judged, 10))
            scores["recall@100"].append(relevance.recall(ranking, judged, 100))
            scores["mrr@10"].append(relevance.mrr(ranking, judged, 10))
        results[ranker] = {name: statistics.mean(values) for name, values in scores.items()}
        results[ranker]["p50_ms"] = statistics.median(latencies)
        results[ranker]["queries"] = len(latencies)
    return results
