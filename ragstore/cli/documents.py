"""`ragstore ingest` and `ragstore search`: files and folders into a vector store, and the passages found in it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from ragstore.cli import context, progress
from ragstore.cli.context import ChunkOverlap, ChunkSize, DataDir, Tenant, Verbose
from ragstore.errors import RagstoreError

if TYPE_CHECKING:
    from ragstore.models import FileCounts, SearchHit
    from ragstore.runtime import Runtime

app = typer.Typer()

Ranker = Literal["hybrid", "dense", "lexical"]


@app.command(
    epilog="Example: ragstore ingest ./docs handbook.pdf --store handbook --chunk-size 400 --chunk-overlap 100"
)
def ingest(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="files, and folders read recursively")],
    store: Annotated[str, typer.Option(help="vector store name or id (created if missing)")],
    tenant: Tenant = None,
    chunk_size: ChunkSize = None,
    chunk_overlap: ChunkOverlap = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Ingest files and folders into a vector store; waits with a progress bar."""
    from ragstore.service import files, ingestion, stores

    settings = context.settings(data_dir, verbose)
    strategy = context.strategy(chunk_size, chunk_overlap)
    found, skipped = _collect(paths)
    if not found:
        context.fail("no files to ingest" + (f" ({skipped} of unsupported types skipped)" if skipped else ""))
        return 1
    with context.runtime(settings) as runtime:
        tenant_id = context.tenant_id(runtime.db, tenant)
        target = stores.get_or_create(runtime.db, tenant_id, store, runtime.embedder, settings.text_search_language)
        file_ids = []
        for path in progress.bar(iterable=found, desc="upload", unit="file"):
            with path.open("rb") as stream:
                file_ids.append(files.upload(runtime.db, tenant_id, path.name, stream).id)
        batch = ingestion.create_batch(
            runtime.db, tenant_id, target, file_ids, strategy, max_attempts=settings.job_max_attempts
        )
        counts = work_on_batch(runtime, tenant_id, batch, len(file_ids))
        failures = ingestion.batch_failures(runtime.db, tenant_id, batch)
    print(
        f"{target.name} ({target.id}): {counts.completed} completed, {counts.failed} failed"
        + (f", {skipped} skipped (unsupported type)" if skipped else "")
    )
    for failure in failures:
        print(f"  failed: {failure.filename}: {failure.message} ({failure.code})")
    return 2 if failures else 0


def work_on_batch(runtime: Runtime, tenant_id: str, batch: str, total: int) -> FileCounts:
    """Run a worker in this process until the batch is done, showing its progress; the batch's counts."""
    from ragstore.service import ingestion

    def left() -> int:
        return ingestion.batch_counts(runtime.db, tenant_id, batch).in_progress

    progress.work_until(runtime, left, total)
    return ingestion.batch_counts(runtime.db, tenant_id, batch)


def _collect(paths: Sequence[Path]) -> tuple[list[Path], int]:
    """Files named on the command line, and the supported files under named folders; (files, skipped)."""
    from ragstore.ingest.parse import SUPPORTED_EXTENSIONS

    found: list[Path] = []
    skipped = 0
    for path in paths:
        if path.is_dir():
            for child in _walk(path):
                if child.suffix.lower() in SUPPORTED_EXTENSIONS:
                    found.append(child)
                else:
                    skipped += 1
        elif path.is_file():
            found.append(path)
        else:
            raise RagstoreError(f"{path} does not exist.")
    return found, skipped


def _walk(folder: Path) -> Iterator[Path]:
    for child in sorted(folder.rglob("*")):
        if child.is_file() and not any(part.startswith(".") for part in child.relative_to(folder).parts):
            yield child


@app.command(
    "search", epilog='Example: ragstore search "how do I reset my password" --store handbook --store faq -k 3 --json'
)
def search_stores(
    query: Annotated[str, typer.Argument(metavar="QUERY", help="what to look for, in words")],
    store: Annotated[list[str], typer.Option(metavar="NAME", help="vector store name or id (repeatable)")],
    tenant: Tenant = None,
    k: Annotated[int, typer.Option("-k", help="number of results, 1..50")] = 5,
    threshold: Annotated[float, typer.Option(help="minimum score, 0..1")] = 0.0,
    ranker: Annotated[Ranker, typer.Option(help="hybrid (the best measured), dense or lexical (BM25)")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Search vector stores: the best passages, with score, file, page and chunk."""
    from ragstore.service import search, stores

    settings = context.settings(data_dir, verbose)
    with context.runtime(settings) as runtime:
        tenant_id = context.tenant_id(runtime.db, tenant)
        store_ids = [stores.resolve(runtime.db, tenant_id, name).id for name in store]
        hits = search.search(runtime.db, runtime.embedder, tenant_id, store_ids, query, k, threshold, ranker=ranker)
    if as_json:
        print(json.dumps([_hit_json(hit) for hit in hits], indent=2, ensure_ascii=False))
    else:
        _print_hits(hits)
    return 0


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "score": round(hit.score, 4),
        "file_id": hit.file_id,
        "filename": hit.filename,
        "page": hit.page,
        "chunk_index": hit.chunk_index,
        "vector_store_id": hit.vector_store_id,
        "attributes": hit.attributes,
        "text": hit.text,
    }


def _print_hits(hits: list[SearchHit]) -> None:
    if not hits:
        print("no results")
    for rank, hit in enumerate(hits, 1):
        where = hit.filename + (f", page {hit.page}" if hit.page else "") + f", chunk {hit.chunk_index}"
        text = " ".join(hit.text.split())
        print(f"{rank}. {hit.score:.3f}  {where}")
        print(f"   {text[:300]}{'…' if len(text) > 300 else ''}")
