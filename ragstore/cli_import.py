"""`ragstore import files|json|chroma|csv` and `ragstore check`: documents from elsewhere, and the stores' integrity."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragstore.cli_common import tenant_id
from ragstore.config import Settings
from ragstore.errors import InvalidRequest
from ragstore.ingest.chunk import AUTO, ChunkingStrategy
from ragstore.models import VectorStore

if TYPE_CHECKING:  # these load the model and the database: imported when a command runs
    from ragstore.importers.common import Report
    from ragstore.importers.records import Destination
    from ragstore.runtime import Runtime
    from ragstore.service.integrity import Findings, Repairs
    from ragstore.store.db import Database


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `import` (files, json, chroma, csv) and `check` to the `ragstore` command."""
    into = argparse.ArgumentParser(add_help=False)
    into.add_argument("--store", required=True, help="vector store name or id (a name is created if missing)")
    into.add_argument("--tenant", help="tenant name or id (default: the default tenant)")
    chunking = argparse.ArgumentParser(add_help=False)
    chunking.add_argument("--chunk-size", type=int, help=f"tokens per chunk (default {AUTO.max_tokens})")
    chunking.add_argument(
        "--chunk-overlap", type=int, help=f"tokens shared by neighbours (default {AUTO.overlap_tokens})"
    )
    sources = commands.add_parser(
        "import", help="import documents from a folder, JSON, ChromaDB or CSV (again: only what changed)"
    ).add_subparsers(required=True, metavar="SOURCE")

    files = sources.add_parser("files", parents=[common, into, chunking], help="a folder of files, recursively")
    files.add_argument("source", type=Path, metavar="DIR")
    files.add_argument("--types", help="extensions to import, e.g. pdf,md (default: every supported type)")
    files.set_defaults(command=cmd_import_files)

    docs = sources.add_parser("json", parents=[common, into, chunking], help="JSON or JSONL documents")
    docs.add_argument("source", type=Path, metavar="DIR", help="a folder of .json/.jsonl files, or one file")
    docs.add_argument("--content-field", help="the text (default: text, content, page_content or body)")
    docs.add_argument("--id-field", help="what identifies a document (default: id, when present)")
    docs.add_argument("--metadata-fields", help="attributes, e.g. title,metadata.author (default: all other fields)")
    docs.set_defaults(command=cmd_import_json)

    chroma = sources.add_parser("chroma", parents=[common, into], help="a ChromaDB persistent directory")
    chroma.add_argument("source", type=Path, metavar="DIR")
    chroma.add_argument("--collection", action="append", help="a collection to import (repeatable; default: all)")
    chroma.add_argument(
        "--embeddings",
        choices=["auto", "reuse", "recompute"],
        default="auto",
        help="auto (default): reuse them when they are the store model's, measured on a sample",
    )
    chroma.set_defaults(command=cmd_import_chroma)

    table = sources.add_parser("csv", parents=[common, into], help="a CSV file, each row a chunk")
    table.add_argument("source", type=Path, metavar="FILE")
    table.add_argument("--text-column", help="the text (default: a column named text or content, else all columns)")
    table.add_argument("--attribute-columns", help="attributes, e.g. score,accuracy (default: all other columns)")
    table.add_argument("--id-column", help="what identifies a row (default: its number in the file)")
    table.set_defaults(command=cmd_import_csv)

    check = commands.add_parser(
        "check", parents=[common], help="find orphan chunks, files without chunks, count mismatches, stale embeddings"
    )
    check.add_argument("--repair", action="store_true", help="repair what was found")
    check.add_argument("--tenant", help="only this tenant (default: every tenant)")
    check.set_defaults(command=cmd_check)


class _Bars:
    """A progress bar per stage (shown on a terminal only)."""

    def __init__(self) -> None:
        self.bar: Any = None

    def start(self, stage: str, total: int | None) -> None:
        from tqdm import tqdm

        self.close()
        self.bar = tqdm(total=total, desc=stage, unit="doc", disable=None)

    def advance(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextmanager
def _importing(settings: Settings, args: argparse.Namespace, strategy: ChunkingStrategy | None) -> Iterator[Any]:
    """The runtime, the target store (created if named and missing), a report and progress bars."""
    from ragstore.importers.common import Report
    from ragstore.importers.records import Destination
    from ragstore.runtime import open_runtime

    if not args.source.exists():  # said before the model loads
        raise InvalidRequest(f"{args.source} does not exist.")
    runtime = open_runtime(settings)
    bars = _Bars()
    try:
        tenant = tenant_id(runtime.db, args.tenant)
        store = _store(runtime, tenant, args.store)
        target = Destination(runtime.db, tenant, store, runtime.embedder, runtime.chunker, strategy)
        yield runtime, target, Report(), bars
    finally:
        bars.close()
        runtime.close()


def _store(runtime: Runtime, tenant: str, name_or_id: str) -> VectorStore:
    from ragstore import ids
    from ragstore.service import stores

    if name_or_id.startswith(ids.VECTOR_STORE):  # an id names a store that exists: never one made here
        return stores.resolve(runtime.db, tenant, name_or_id)
    language = runtime.settings.text_search_language
    return stores.get_or_create(runtime.db, tenant, name_or_id, runtime.embedder, language)


def _strategy(args: argparse.Namespace) -> ChunkingStrategy:
    return ChunkingStrategy(
        args.chunk_size or AUTO.max_tokens, AUTO.overlap_tokens if args.chunk_overlap is None else args.chunk_overlap
    )


def cmd_import_files(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.importers import files
    from ragstore.importers.common import field_list

    strategy = _strategy(args)
    files.collect(args.source, field_list(args.types))  # a wrong folder or type is said before the model loads
    with _importing(settings, args, strategy) as (runtime, target, report, bars):
        work = files.start(target, args.source, field_list(args.types), strategy, report, bars)
        _work_until(runtime, lambda: files.remaining(work), len(work.started))
        files.finish(work, report)
    return _print_report(target, report)


def cmd_import_json(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.importers import jsondocs
    from ragstore.importers.common import field_list

    fields = jsondocs.Fields(args.content_field, args.id_field, field_list(args.metadata_fields))
    jsondocs.json_files(args.source)  # said before the model loads
    with _importing(settings, args, _strategy(args)) as (_, target, report, bars):
        jsondocs.import_json(target, args.source, fields, report, bars)
    return _print_report(target, report)


def cmd_import_chroma(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.importers import chroma

    # A wrong directory or collection is said before the model loads (and before a store is made for it).
    chroma.collection_names(chroma.open_client(args.source), args.source, args.collection)
    with _importing(settings, args, None) as (_, target, report, bars):
        chroma.import_chroma(target, args.source, args.collection, args.embeddings, report, bars)
    return _print_report(target, report)


def cmd_import_csv(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.importers import csvrows
    from ragstore.importers.common import field_list

    columns = csvrows.Columns(args.text_column, field_list(args.attribute_columns), args.id_column)
    csvrows.choose_columns(csvrows.read_table(args.source).header, columns)  # said before the model loads
    with _importing(settings, args, None) as (_, target, report, bars):
        csvrows.import_csv(target, args.source, columns, report, bars)
    return _print_report(target, report)


def _work_until(runtime: Runtime, remaining: Callable[[], int], total: int) -> None:
    """Run a worker in this process, with a progress bar, until nothing is left (other workers may help)."""
    from tqdm import tqdm

    if not total:
        return
    worker = runtime.worker(poll_seconds=0.2)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        with tqdm(total=total, desc="ingest", unit="file", disable=None) as bar:
            while left := remaining():
                bar.update(total - left - bar.n)
                worker.stop_event.wait(0.2)
            bar.update(total - bar.n)
    finally:
        worker.stop()
        thread.join()


def _print_report(target: Destination, report: Report) -> int:
    """The counts on one line, then notes, warnings and failures; exit code 2 when a record failed."""
    store = target.store
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


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.runtime import open_runtime
    from ragstore.service import integrity
    from ragstore.store.db import open_database

    # The model is loaded only to repair: re-embedding and re-ingesting need it, finding problems does not.
    runtime = open_runtime(settings) if args.repair else None
    db = runtime.db if runtime else open_database(settings)
    try:
        remaining = 0
        for tenant_id, name in _tenants(db, args.tenant).items():
            findings = integrity.check(db, tenant_id)
            _print_findings(name, findings)
            if runtime is None or findings.clean:
                remaining += len(findings.problems)
                continue
            repairs = integrity.repair(db, runtime.embedder, runtime.chunker, findings)
            _wait_for_batches(runtime, tenant_id, repairs)
            _print_repairs(repairs)
            after = integrity.check(db, tenant_id)
            print(f"  after repair: {'clean' if after.clean else _count(len(after.problems), 'problem') + ' left'}")
            remaining += len(after.problems)
    finally:
        db.close()
    return 2 if remaining else 0


def _tenants(db: Database, tenant: str | None) -> dict[str, str]:
    """The tenant asked for, else every tenant: {id: name}."""
    from ragstore.service import tenants

    if tenant:
        found = tenants.get_tenant(db, tenant)
        return {found.id: found.name}
    return {row["id"]: row["name"] for row in tenants.list_tenants(db)}


def _wait_for_batches(runtime: Runtime, tenant_id: str, repairs: Repairs) -> None:
    from ragstore.service import ingestion

    def left() -> int:
        return sum(ingestion.batch_counts(runtime.db, tenant_id, batch).in_progress for _, batch in repairs.batches)

    _work_until(runtime, left, repairs.requeued_files)


def _print_findings(name: str, findings: Findings) -> None:
    from ragstore.service.integrity import KINDS

    totals = findings.totals
    summary = ", ".join(_count(totals[kind], kind.removesuffix("s")) for kind in ("stores", "files", "chunks"))
    if findings.clean:
        print(f"{name}: {summary}: clean")
        return
    print(f"{name}: {summary}: {_count(len(findings.problems), 'problem')}")
    for kind, (title, why, fix) in KINDS.items():
        found = findings.of_kind(kind)
        if not found:
            continue
        print(f"  {title} ({len(found)}): {why}; --repair {fix}")
        for problem in found[:10]:
            print(f"    {problem.vector_store_id} {problem.file_id} ({problem.filename or '?'}): {problem.detail}")
        if len(found) > 10:
            print(f"    ... and {len(found) - 10} more")


def _print_repairs(repairs: Repairs) -> None:
    print(
        f"  repaired: {_count(repairs.deleted_chunks, 'orphan chunk')} deleted, "
        f"{_count(repairs.reembedded_chunks, 'chunk')} embedded again, "
        f"{_count(repairs.recounted_files, 'file')} counted again, "
        f"{_count(repairs.requeued_files, 'file')} ingested again"
    )
    for reason in repairs.skipped:
        print(f"  not repaired: {reason}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
