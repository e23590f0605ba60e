"""`ragstore import files|json|chroma|csv`: documents from elsewhere into a store; run again, only what changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ragstore.cli import context, progress
from ragstore.cli.context import ChunkOverlap, ChunkSize, DataDir, Tenant, Verbose
from ragstore.errors import InvalidRequest

if TYPE_CHECKING:
    from ragstore.config import Settings
    from ragstore.importers.common import Report
    from ragstore.importers.records import Destination
    from ragstore.ingest.chunk import ChunkingStrategy
    from ragstore.models import VectorStore
    from ragstore.runtime import Runtime

app = typer.Typer()
import_app = typer.Typer(
    help="Import documents from a folder, JSON, ChromaDB or CSV (again: only what changed).", no_args_is_help=True
)
app.add_typer(import_app, name="import")

Store = Annotated[str, typer.Option(help="vector store name or id (a name is created if missing)")]
Folder = Annotated[Path, typer.Argument(metavar="DIR", show_default=False)]


@import_app.command("files", epilog="Example: ragstore import files ./handbook --store handbook --types pdf,md")
def import_files(
    source: Folder,
    store: Store,
    types: Annotated[
        str | None, typer.Option(help="extensions to import, e.g. pdf,md (default: every supported type)")
    ] = None,
    tenant: Tenant = None,
    chunk_size: ChunkSize = None,
    chunk_overlap: ChunkOverlap = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """A folder of files, recursively."""
    from ragstore.importers import files
    from ragstore.importers.common import field_list

    settings = context.settings(data_dir, verbose)
    strategy = context.strategy(chunk_size, chunk_overlap)
    files.collect(source, field_list(types))  # a wrong folder or type is said before the model loads
    with _importing(settings, source, store, tenant, strategy) as (runtime, destination, report, bars):
        work = files.start(destination, source, field_list(types), strategy, report, bars)
        progress.work_until(runtime, lambda: files.remaining(work), len(work.started))
        files.finish(work, report)
    return _print_report(destination.store, report)


@import_app.command(
    "json", epilog="Example: ragstore import json ./documents --store kb --metadata-fields title,author"
)
def import_json(
    source: Annotated[Path, typer.Argument(metavar="DIR", help="a folder of .json/.jsonl files, or one file")],
    store: Store,
    content_field: Annotated[
        str | None, typer.Option(help="the text (default: text, content, page_content or body)")
    ] = None,
    id_field: Annotated[str | None, typer.Option(help="what identifies a document (default: id, when present)")] = None,
    metadata_fields: Annotated[
        str | None, typer.Option(help="attributes, e.g. title,metadata.author (default: all other fields)")
    ] = None,
    tenant: Tenant = None,
    chunk_size: ChunkSize = None,
    chunk_overlap: ChunkOverlap = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """JSON or JSONL documents."""
    from ragstore.importers import jsondocs
    from ragstore.importers.common import field_list

    settings = context.settings(data_dir, verbose)
    fields = jsondocs.Fields(content_field, id_field, field_list(metadata_fields))
    jsondocs.json_files(source)  # said before the model loads
    strategy = context.strategy(chunk_size, chunk_overlap)
    with _importing(settings, source, store, tenant, strategy) as (_, destination, report, bars):
        jsondocs.import_json(destination, source, fields, report, bars)
    return _print_report(destination.store, report)


@import_app.command("chroma", epilog="Example: ragstore import chroma ./chroma --store kb --collection docs")
def import_chroma(
    source: Folder,
    store: Store,
    collection: Annotated[
        list[str] | None, typer.Option(metavar="NAME", help="a collection to import (repeatable; default: all)")
    ] = None,
    embeddings: Annotated[
        Literal["auto", "reuse", "recompute"],
        typer.Option(help="auto: reuse them when they are the store model's, measured on a sample"),
    ] = "auto",
    tenant: Tenant = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """A ChromaDB persistent directory."""
    from ragstore.importers import chroma

    settings = context.settings(data_dir, verbose)
    # A wrong directory or collection is said before the model loads (and before a store is made for it).
    chroma.collection_names(chroma.open_client(source), source, collection)
    with _importing(settings, source, store, tenant, None) as (_, destination, report, bars):
        chroma.import_chroma(destination, source, collection, embeddings, report, bars)
    return _print_report(destination.store, report)


@import_app.command("csv", epilog="Example: ragstore import csv ./local_stats.csv --store stats --id-column game")
def import_csv(
    source: Annotated[Path, typer.Argument(metavar="FILE", show_default=False)],
    store: Store,
    text_column: Annotated[
        str | None, typer.Option(help="the text (default: a column named text or content, else all columns)")
    ] = None,
    attribute_columns: Annotated[
        str | None, typer.Option(help="attributes, e.g. score,accuracy (default: all other columns)")
    ] = None,
    id_column: Annotated[
        str | None, typer.Option(help="what identifies a row (default: its number in the file)")
    ] = None,
    tenant: Tenant = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """A CSV file, each row a chunk."""
    from ragstore.importers import csvrows
    from ragstore.importers.common import field_list

    settings = context.settings(data_dir, verbose)
    columns = csvrows.Columns(text_column, field_list(attribute_columns), id_column)
    csvrows.choose_columns(csvrows.read_table(source).header, columns)  # said before the model loads
    with _importing(settings, source, store, tenant, None) as (_, destination, report, bars):
        csvrows.import_csv(destination, source, columns, report, bars)
    return _print_report(destination.store, report)


@contextmanager
def _importing(
    settings: Settings, source: Path, store: str, tenant: str | None, strategy: ChunkingStrategy | None
) -> Iterator[tuple[Runtime, Destination, Report, progress.Stages]]:
    """The runtime, where the records go (the store created if named and missing), a report and progress bars."""
    from ragstore.importers.common import Report
    from ragstore.importers.records import Destination

    if not source.exists():  # said before the model loads
        raise InvalidRequest(f"{source} does not exist.")
    with context.runtime(settings) as runtime, progress.Stages() as bars:
        tenant_id = context.tenant_id(runtime.db, tenant)
        into = _store(runtime, tenant_id, store)
        yield (
            runtime,
            Destination(runtime.db, tenant_id, into, runtime.embedder, runtime.chunker, strategy),
            Report(),
            bars,
        )


def _store(runtime: Runtime, tenant_id: str, name_or_id: str) -> VectorStore:
    from ragstore import ids
    from ragstore.service import stores

    if name_or_id.startswith(ids.VECTOR_STORE):  # an id names a store that exists: never one made here
        return stores.resolve(runtime.db, tenant_id, name_or_id)
    language = runtime.settings.text_search_language
    return stores.get_or_create(runtime.db, tenant_id, name_or_id, runtime.embedder, language)


def _print_report(store: VectorStore, report: Report) -> int:
    """The counts on one line, then notes, warnings and failures; exit code 2 when a record failed."""
    print(
        f"{store.name or store.id} ({store.id}): {report.imported} imported, {report.replaced} replaced, "
        f"{report.unchanged} unchanged, {len(report.failed)} failed; {report.chunks} chunks written"
    )
    for note in report.notes:
        print(f"  {note}")
    for warning, count in sorted(report.warnings.items()):
        print(f"  warning: {warning} ({count} {'record' if count == 1 else 'records'})")
    for failure in report.failed:
        print(f"  failed: {failure.name}: {failure.reason}")
    return 2 if report.failed else 0
