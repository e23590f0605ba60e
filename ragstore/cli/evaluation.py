"""`ragstore eval`: retrieval scored on a BEIR dataset, through the same ingestion and search as everything else."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ragstore.cli import context
from ragstore.cli.context import DataDir, Verbose
from ragstore.cli.documents import work_on_batch
from ragstore.errors import RagstoreError

if TYPE_CHECKING:
    from ragstore.models import FileRecord, VectorStore
    from ragstore.runtime import Runtime
    from ragstore.service.evaluation import Dataset

app = typer.Typer()


@app.command("eval", epilog="Example: ragstore eval ../shared/data/scifact --json scifact.json --keep")
def evaluate(
    dataset_dir: Annotated[
        Path, typer.Argument(metavar="DATASET_DIR", help="corpus.jsonl, queries.jsonl, qrels/", show_default=False)
    ],
    json_file: Annotated[
        Path | None, typer.Option("--json", metavar="FILE", help="also write the results here")
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="keep the evaluation's vector store")] = False,
    store: Annotated[
        str | None, typer.Option(help="score a store kept by an earlier --keep run instead of ingesting again")
    ] = None,
    sweep: Annotated[
        bool, typer.Option("--sweep", help="also score hybrid weights on each half of the queries")
    ] = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Score retrieval on a BEIR dataset: nDCG@10, recall@10/100, MRR@10 and latency per ranker."""
    from ragstore.service import evaluation

    settings = context.settings(data_dir, verbose)
    dataset = evaluation.load(dataset_dir)
    with context.runtime(settings) as runtime:
        results, swept, ingest_s = _score(runtime, dataset, dataset_dir.name, store, keep, sweep)
    print(f"{dataset_dir.name}: {len(dataset.queries)} judged queries; corpus ingested in {ingest_s:.1f} s")
    print(f"{'ranker':<8} {'nDCG@10':>8} {'R@10':>7} {'R@100':>7} {'MRR@10':>7} {'p50 ms':>7}")
    for ranker, row in results.items():
        print(
            f"{ranker:<8} {row['ndcg@10']:>8.4f} {row['recall@10']:>7.4f} {row['recall@100']:>7.4f}"
            f" {row['mrr@10']:>7.4f} {row['p50_ms']:>7.1f}"
        )
    if swept:
        print("hybrid nDCG@10 by alpha (dense weight), on each half of the queries:")
        for alpha, halves in swept.items():
            print(f"  alpha {alpha:.1f}: first {halves['first']:.4f}  second {halves['second']:.4f}")
    if json_file:
        report = {
            "dataset": str(dataset_dir),
            "ingest_s": ingest_s,
            "rankers": results,
            "hybrid_sweep": {str(alpha): halves for alpha, halves in swept.items()},
        }
        json_file.write_text(json.dumps(report, indent=2))
    return 0


def _score(
    runtime: Runtime, dataset: Dataset, name: str, kept: str | None, keep: bool, sweep: bool
) -> tuple[dict[str, Any], dict[float, Any], float]:
    """Each ranker's scores (and the sweep's) on the kept store or a new one; (results, swept, ingest seconds)."""
    from ragstore.models import DEFAULT_TENANT
    from ragstore.service import evaluation, files, search, stores

    if kept:
        store, corpus, ingest_s = stores.resolve(runtime.db, DEFAULT_TENANT, kept), None, 0.0
    else:
        store, corpus, ingest_s = _ingest_corpus(runtime, dataset, name)
    results = evaluation.evaluate(runtime.db, runtime.embedder, DEFAULT_TENANT, store.id, dataset, search.RANKERS)
    alphas = [round(0.1 * i, 1) for i in range(11)]
    swept = evaluation.sweep(runtime.db, runtime.embedder, DEFAULT_TENANT, store.id, dataset, alphas) if sweep else {}
    if corpus is not None and not keep:
        stores.delete(runtime.db, DEFAULT_TENANT, store.id)
        files.delete(runtime.db, DEFAULT_TENANT, corpus.id)
    elif corpus is not None:
        print(f"kept {store.id}: reuse it with --store {store.id}")
    return results, swept, ingest_s


def _ingest_corpus(runtime: Runtime, dataset: Dataset, name: str) -> tuple[VectorStore, FileRecord, float]:
    """The corpus through the normal pipeline into a new store; (store, file, seconds)."""
    from ragstore.models import DEFAULT_TENANT
    from ragstore.service import files, ingestion, stores

    language = runtime.settings.text_search_language
    store = stores.create(runtime.db, DEFAULT_TENANT, runtime.embedder, f"eval {name}", language=language)
    with dataset.corpus.open("rb") as stream:
        corpus = files.upload(runtime.db, DEFAULT_TENANT, "corpus.jsonl", stream)
    began = time.perf_counter()
    # No chunking, as BEIR scores documents: a passage is one chunk (a longer one is embedded in windows).
    batch = ingestion.create_batch(runtime.db, DEFAULT_TENANT, store, [corpus.id], ingestion.chunking(4096, 0))
    counts = work_on_batch(runtime, DEFAULT_TENANT, batch, 1)
    if counts.completed != 1:
        failures = ingestion.batch_failures(runtime.db, DEFAULT_TENANT, batch)
        raise RagstoreError(f"The corpus did not ingest: {failures[0].message if failures else 'unknown'}")
    return store, corpus, time.perf_counter() - began
