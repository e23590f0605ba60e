"""`ragstore ingest` and `ragstore search`: files and folders into a vector store, and the passages found in it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from ragstore.cli import context, progress
from ragstore.cli.context import ChunkOverlap, ChunkSize, DataDir, Tenant, Verbose
from ragstore.errors import RagstoreError

if TYPE_CHECKING:
    from ragstore.importers.common import Report
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
    """Ingest files and folders into a vector store; waits with a progress bar. A re-run (after Ctrl-C, or on a
    folder that changed) uploads only the files that are new or changed since, as `ragstore import files` does."""
    from ragstore.importers import files
    from ragstore.importers.common import Report
    from ragstore.importers.records import Destination
    from ragstore.service import stores

    settings = context.settings(data_dir, verbose)
    strategy = context.strategy(chunk_size, chunk_overlap)
    found, skipped = files.collect_paths(paths)
    if not found:
        context.fail("no files to ingest" + (f" ({skipped} of unsupported types skipped)" if skipped else ""))
        return 1
    report = Report()
    with context.runtime(settings) as runtime, progress.Stages("file") as bars:
        tenant_id = context.tenant_id(runtime.db, tenant)
        target = stores.get_or_create(runtime.db, tenant_id, store, runtime.embedder, settings.text_search_language)
        into = Destination(runtime.db, tenant_id, target, runtime.embedder, runtime.chunker, strategy)
        try:
            work = files.start_paths(into, found, strategy, report, bars)
            bars.close()
            progress.work_until(runtime, lambda: files.remaining(work), len(work.started))
        except KeyboardInterrupt:
            raise RagstoreError(
                "interrupted: run the same command again to go on; what is uploaded already is not uploaded twice."
            ) from None
        files.finish(work, report)
    _print_ingested(target.name, target.id, report, skipped)
    return 2 if report.failed else 0


def _print_ingested(name: str, store_id: str, report: Report, skipped: int) -> None:
    completed = report.imported + report.replaced
    print(
        f"{name} ({store_id}): {completed} completed, {len(report.failed)} failed"
        + (f", {report.unchanged} unchanged" if report.unchanged else "")
        + (f", {skipped} skipped (unsupported type)" if skipped else "")
    )
    for note in report.notes:
        print(f"  {note}")
    for failure in report.failed:
        print(f"  failed: {failure.name}: {failure.reason}")


def work_on_batch(runtime: Runtime, tenant_id: str, batch: str, total: int) -> FileCounts:
    """Run a worker in this process until the batch is done, showing its progress; the batch's counts."""
    from ragstore.service import ingestion

    def left() -> int:
        return ingestion.batch_counts(runtime.db, tenant_id, batch).in_progress

    progress.work_until(runtime, left, total)
    return ingestion.batch_counts(runtime.db, tenant_id, batch)


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
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            metavar="FILTER",
            help="the API's filter as JSON, or key=value, key!=value, key>=5 ... (repeatable: all must hold)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Search vector stores: the best passages, with score, file, page and chunk."""
    from ragstore.service import search, stores

    if not 1 <= k <= search.MAX_RESULTS:
        raise RagstoreError(f"-k is 1..{search.MAX_RESULTS}, not {k}.")
    wanted = parse_filters(filters or [])
    settings = context.settings(data_dir, verbose)
    with context.runtime(settings) as runtime:
        tenant_id = context.tenant_id(runtime.db, tenant)
        store_ids = [stores.resolve(runtime.db, tenant_id, name).id for name in store]
        hits = search.search(
            runtime.db, runtime.embedder, tenant_id, store_ids, query, k, threshold, wanted, ranker=ranker
        )
    if as_json:
        print(json.dumps([_hit_json(hit) for hit in hits], indent=2, ensure_ascii=False))
    else:
        _print_hits(hits)
    return 0


# The short form's operators, longest first so that ">=" is not read as ">".
_OPERATORS = (("!=", "ne"), (">=", "gte"), ("<=", "lte"), ("=", "eq"), (">", "gt"), ("<", "lt"))


def parse_filters(given: Sequence[str]) -> dict[str, Any] | None:
    """--filter options as one of the API's filters: each a JSON filter or `key<op>value`, all joined by `and`.

    In the short form a value that reads as JSON (42, 2.5, true, "2024") is that JSON value, anything else a string:
    `year=2024` compares with the number 2024, `year="2024"` with the string.
    """
    parsed = [_one_filter(text) for text in given]
    if len(parsed) <= 1:
        return parsed[0] if parsed else None
    return {"type": "and", "filters": parsed}


def _one_filter(text: str) -> dict[str, Any]:
    if text.lstrip().startswith("{"):
        try:
            found = json.loads(text)
        except ValueError as exc:
            raise RagstoreError(f"--filter {text!r} is not JSON: {exc}.") from None
        if not isinstance(found, dict):
            raise RagstoreError(f"--filter {text!r} is not a JSON object.")
        return found
    for symbol, kind in _OPERATORS:
        key, found, raw = text.partition(symbol)
        if found and key.strip():
            return {"type": kind, "key": key.strip(), "value": _value(raw.strip())}
    raise RagstoreError(f"--filter {text!r}: give JSON or key=value (also !=, >, >=, <, <=).")


def _value(raw: str) -> Any:
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, str | int | float | bool) else raw


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
