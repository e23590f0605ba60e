"""Offline rank-fusion study: every fusion variant on cached dense and lexical candidate lists.

    .venv/bin/python bench/fusion_study.py [--refresh] [--depth 100]

Once per collection of ../shared/data (cached in bench/results/cache/fusion-<collection>.json; --refresh redoes it):
a fresh embedded PostgreSQL, the corpus ingested through ragstore's own pipeline (one chunk per document, the local
int8 model), then for every judged query and every exact-token query (bench/exact_tokens.py) the candidates search()
fuses: the dense top --depth with cosines, the BM25 top --depth, the cosines of BM25's extra hits and the document
frequency of the query's terms. Every variant of ragstore/service/fusion.py is then scored in pure Python.

How the default is chosen (`choose`): the deciding sets are the first half of msmarco's judged queries (sorted ids)
and the first half of its exact-token queries; the variant whose worst margin over the better single ranker
(max(dense, lexical) on that set) is largest wins. It is then confirmed on msmarco's second halves, on business-reports
and on its exact-token queries, which the choice never sees. No constant is set per collection. Writes
bench/results/fusion_study.json (every variant, nDCG@10 / recall@10 / MRR@10 per set) and prints the table (all
fixed-weight variants, and of the rare_rescue schedules the chosen one).
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import exact_tokens  # noqa: E402
from ragstore.config import Settings  # noqa: E402
from ragstore.models import DEFAULT_TENANT  # noqa: E402
from ragstore.runtime import Runtime, open_runtime  # noqa: E402
from ragstore.service import evaluation, files, fusion, ingestion, relevance, search, stores  # noqa: E402
from ragstore.store import chunks, embedded  # noqa: E402
from ragstore.worker import Worker, ingestion_tasks  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).parent / "results"
CACHE = RESULTS / "cache"
COLLECTIONS = ("msmarco", "business-reports")


def ingest(runtime: Runtime, collection: str) -> str:
    store = stores.create(runtime.db, DEFAULT_TENANT, runtime.embedder, collection)
    body = (DATA / collection / "corpus.jsonl").read_bytes()
    corpus = files.upload(runtime.db, DEFAULT_TENANT, "corpus.jsonl", io.BytesIO(body))
    ingestion.create_batch(runtime.db, DEFAULT_TENANT, store, [corpus.id], ingestion.chunking(4096, 0))
    Worker(runtime.db, ingestion_tasks(runtime.db, runtime.embedder, runtime.chunker)).drain()
    return store.id


def candidates(runtime: Runtime, store_id: str, text: str, depth: int) -> dict[str, Any]:
    """What search() fuses for this query, keyed by document id."""
    with runtime.db.tenant(DEFAULT_TENANT) as conn:
        scope = search._scope(conn, DEFAULT_TENANT, [store_id], runtime.embedder)
        embedding = search._embedding(scope.embedder, [text])
        dense = search._dense(conn, DEFAULT_TENANT, scope, embedding, depth, 0.0, None)
        lexical, dfs, documents = chunks.search_chunks_lexical_weighted(
            conn, DEFAULT_TENANT, [store_id], text, depth, None, scope.language
        )
        seen = {hit.chunk_id for hit in dense}
        extra = chunks.similarities(
            conn, DEFAULT_TENANT, [h.chunk_id for h in lexical if h.chunk_id not in seen], embedding, scope.space
        )
    doc = {hit.chunk_id: str(hit.attributes.get("_id")) for hit in [*dense, *lexical]}
    return {
        "dense": [[doc[h.chunk_id], h.score] for h in dense],
        "lexical": [[doc[h.chunk_id], h.score] for h in lexical],
        "extra_cosine": {doc[cid]: score for cid, score in extra.items()},
        "dfs": list(dfs),
        "documents": documents,
    }


def collect(depth: int, refresh: bool) -> dict[str, dict[str, Any]]:
    """Per collection: its judged queries, exact-token queries, judgments and candidates (cached)."""
    found = {}
    missing = [c for c in COLLECTIONS if refresh or not (CACHE / f"fusion-{c}.json").exists()]
    if missing:
        folder = Path(tempfile.mkdtemp(prefix="ragstore-fusion-"))
        runtime = open_runtime(Settings(database_url=embedded.start(folder / "pgdata"), data_dir=folder))
        try:
            for collection in missing:
                dataset = evaluation.load(DATA / collection)
                texts, judged = exact_tokens.load(collection)
                store_id = ingest(runtime, collection)
                queries = {**dataset.queries, **texts}
                cached = {
                    "queries": queries,
                    "judgments": {**dataset.judgments, **judged},
                    "exact": sorted(texts),
                    "candidates": {qid: candidates(runtime, store_id, text, depth) for qid, text in queries.items()},
                }
                CACHE.mkdir(parents=True, exist_ok=True)
                (CACHE / f"fusion-{collection}.json").write_text(json.dumps(cached))
        finally:
            runtime.close()
            embedded.stop(folder / "pgdata")
            shutil.rmtree(folder, ignore_errors=True)
    for collection in COLLECTIONS:
        found[collection] = json.loads((CACHE / f"fusion-{collection}.json").read_text())
    return found


def as_candidates(cached: dict[str, Any]) -> fusion.Candidates[str]:
    dense = {doc: score for doc, score in cached["dense"]}
    lexical = {doc: score for doc, score in cached["lexical"]}
    cosine = {**cached["extra_cosine"], **dense}
    return fusion.Candidates(dense, lexical, cosine, tuple(cached["dfs"]), cached["documents"])


Variant = Callable[[fusion.Candidates[str]], dict[str, float]]


def variants() -> dict[str, Variant]:
    """Fixed weights of each family (alpha: the dense weight), then rare_rescue's schedules (lexical weight low
    below `rarest` start, rising to top at 1)."""
    found: dict[str, Variant] = {"dense": fusion.dense, "lexical": fusion.lexical}
    for alpha in (0.5, 0.6, 0.7, 0.8, 0.9):
        found[f"min_max {alpha}"] = partial(fusion.min_max, alpha=alpha)
        found[f"z_score {alpha}"] = partial(fusion.z_score, alpha=alpha)
        found[f"bounded {alpha}"] = partial(fusion.bounded, alpha=alpha)
        found[f"idf_weighted {alpha}"] = partial(fusion.idf_weighted, alpha=alpha)
        found[f"agreement {alpha}"] = partial(fusion.agreement, alpha=alpha)
        found[f"rrf {alpha}"] = partial(fusion.rrf, weight=alpha)
    for share in (0.8, 0.9, 1.0):
        found[f"rescue {share}"] = partial(fusion.rescue, share=share)
    for low, top, start in itertools.product((0.0, 0.1, 0.2), (0.3, 0.5, 0.7, 0.9), (0.7, 0.8, 0.85, 0.9, 0.95)):
        found[f"rare_rescue {low}/{top}/{start}"] = partial(fusion.rare_rescue, start=start, top=top, low=low)
    return found


def score(study: dict[str, Any], qids: list[str], variant: Callable[..., dict[str, float]]) -> dict[str, float]:
    metrics: dict[str, list[float]] = {"ndcg@10": [], "recall@10": [], "mrr@10": []}
    for qid in qids:
        ranking = fusion.ranked(variant(as_candidates(study["candidates"][qid])))
        judged = study["judgments"][qid]
        metrics["ndcg@10"].append(relevance.ndcg(ranking, judged, 10))
        metrics["recall@10"].append(relevance.recall(ranking, judged, 10))
        metrics["mrr@10"].append(relevance.mrr(ranking, judged, 10))
    return {name: statistics.fmean(values) for name, values in metrics.items()}


def query_sets(studies: dict[str, dict[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    """The sets every variant is scored on: msmarco's judged and exact-token queries in halves (the A halves decide),
    business-reports' judged and exact-token queries (confirmation only)."""
    sets = {}
    for collection, study in studies.items():
        exact = sorted(study["exact"], key=lambda qid: int(qid.split("_")[1]))
        judged = sorted(q for q in study["queries"] if q not in set(exact))
        if collection == "msmarco":
            sets["msmarco A"], sets["msmarco B"] = judged[: len(judged) // 2], judged[len(judged) // 2 :]
            sets["exact msmarco A"], sets["exact msmarco B"] = exact[: len(exact) // 2], exact[len(exact) // 2 :]
        sets[collection], sets[f"exact {collection}"] = judged, exact
    return {
        name: (name.split()[1] if name.startswith("exact") else name.split()[0], qids) for name, qids in sets.items()
    }


DECIDING = ("msmarco A", "exact msmarco A")


def choose(table: dict[str, dict[str, dict[str, float]]]) -> str:
    """The variant whose worst margin over the better single ranker, across the deciding sets, is largest."""

    def margin(name: str) -> float:
        row = table[name]
        best = {s: max(table["dense"][s]["ndcg@10"], table["lexical"][s]["ndcg@10"]) for s in DECIDING}
        return min(row[s]["ndcg@10"] - best[s] for s in DECIDING)

    return max((n for n in table if n not in ("dense", "lexical")), key=margin)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--refresh", action="store_true", help="ingest and collect the candidates again")
    parser.add_argument("--depth", type=int, default=search.FUSION_DEPTH, help="candidates per ranker")
    args = parser.parse_args()
    studies = collect(args.depth, args.refresh)
    sets = query_sets(studies)
    table = {
        name: {label: score(studies[c], qids, variant) for label, (c, qids) in sets.items()}
        for name, variant in variants().items()
    }
    chosen = choose(table)
    shown = [n for n in table if not n.startswith("rare_rescue") or n == chosen]
    print(f"nDCG@10 ({', '.join(f'{k}: {len(v[1])}' for k, v in sets.items())} queries; * chosen on {DECIDING})")
    print(f"{'variant':<30}" + "".join(f"{label:>17}" for label in sets))
    for name in shown:
        mark = " *" if name == chosen else ""
        print(f"{name + mark:<30}" + "".join(f"{table[name][label]['ndcg@10']:>17.4f}" for label in sets))
    RESULTS.mkdir(exist_ok=True)
    report = {"sets": {k: len(v[1]) for k, v in sets.items()}, "chosen": chosen, "table": table}
    (RESULTS / "fusion_study.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
