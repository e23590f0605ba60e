"""The `ragstore` command: parses arguments, builds Settings, calls the service layer. No SQL here."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ragstore.cli_admin import (
    cmd_keys_create,
    cmd_keys_list,
    cmd_keys_revoke,
    cmd_stats,
    cmd_tenants_create,
    cmd_tenants_list,
)
from ragstore.cli_archive import register as register_archive_commands
from ragstore.cli_chat import register as register_chat_commands
from ragstore.cli_common import tenant_id
from ragstore.cli_float16 import register as register_float16_commands
from ragstore.cli_import import register as register_import_commands
from ragstore.cli_reembed import register as register_reembed_commands
from ragstore.config import Settings
from ragstore.errors import RagstoreError
from ragstore.ingest.chunk import AUTO, ChunkingStrategy
from ragstore.ingest.parse import SUPPORTED_EXTENSIONS
from ragstore.models import DEFAULT_TENANT, FileCounts, FileRecord, SearchHit, VectorStore
from ragstore.observability import logs

if TYPE_CHECKING:  # these modules load the model and the database: imported when a command needs them
    from ragstore.runtime import Runtime
    from ragstore.service.evaluation import Dataset

log = logging.getLogger("ragstore")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = _settings(args)
        level = logging.INFO if args.verbose else logging.WARNING
        logs.configure(settings.log_format or getattr(args, "log_format", "text"), level)
        return args.command(settings, args) or 0
    except ValidationError as exc:
        print(
            f"ragstore: invalid setting: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}",
            file=sys.stderr,
        )
    except RagstoreError as exc:
        print(f"ragstore: {exc.message}", file=sys.stderr)
    except KeyboardInterrupt:
        print("ragstore: interrupted", file=sys.stderr)
    return 1


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        key: getattr(args, key)
        for key in ("data_dir", "host", "port", "workers")
        if getattr(args, key, None) is not None
    }
    return Settings(**overrides)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="where the embedded database lives (RAGSTORE_DATA_DIR)")
    common.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    parser = argparse.ArgumentParser(prog="ragstore", description="A self-hosted knowledge base for RAG chatbots.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run the HTTP server and in-process workers")
    serve.add_argument("--host", help="default 127.0.0.1 (RAGSTORE_HOST)")
    serve.add_argument("--port", type=int, help="default 8000 (RAGSTORE_PORT)")
    serve.add_argument("--workers", type=int, help="in-process ingestion workers, default 1 (RAGSTORE_WORKERS)")
    serve.set_defaults(command=cmd_serve, log_format="json")

    worker = commands.add_parser("worker", parents=[common], help="run an ingestion worker against the database")
    worker.set_defaults(command=cmd_worker, log_format="json")

    ingest = commands.add_parser("ingest", parents=[common], help="ingest files and folders into a vector store")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--store", required=True, help="vector store name or id (created if missing)")
    ingest.add_argument("--tenant", help="tenant name or id (default: the default tenant)")
    ingest.add_argument("--chunk-size", type=int, help=f"tokens per chunk (default {AUTO.max_tokens})")
    ingest.add_argument(
        "--chunk-overlap", type=int, help=f"tokens shared by neighbours (default {AUTO.overlap_tokens})"
    )
    ingest.set_defaults(command=cmd_ingest)

    search = commands.add_parser("search", parents=[common], help="search a vector store")
    search.add_argument("query")
    search.add_argument("--store", required=True, action="append", help="vector store name or id (repeatable)")
    search.add_argument("--tenant", help="tenant name or id (default: the default tenant)")
    search.add_argument("-k", type=int, default=5, help="number of results, 1..50 (default 5)")
    search.add_argument("--threshold", type=float, default=0.0, help="minimum score, 0..1")
    search.add_argument(
        "--ranker",
        choices=["hybrid", "dense", "lexical"],
        default="hybrid",
        help="hybrid (default, the best measured), dense or lexical (BM25)",
    )
    search.add_argument("--json", action="store_true", help="print JSON")
    search.set_defaults(command=cmd_search)

    evaluate = commands.add_parser("eval", parents=[common], help="score retrieval on a BEIR dataset")
    evaluate.add_argument("dataset", type=Path, metavar="DATASET_DIR", help="corpus.jsonl, queries.jsonl, qrels/")
    evaluate.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    evaluate.add_argument("--keep", action="store_true", help="keep the evaluation's vector store")
    evaluate.add_argument("--store", help="score a store kept by an earlier --keep run instead of ingesting again")
    evaluate.add_argument("--sweep", action="store_true", help="also score hybrid weights on each half of the queries")
    evaluate.set_defaults(command=cmd_eval)

    migrate = commands.add_parser("migrate", parents=[common], help="apply pending database migrations")
    migrate.set_defaults(command=cmd_migrate)

    doctor = commands.add_parser("doctor", parents=[common], help="show what ragstore runs on")
    doctor.set_defaults(command=cmd_doctor)

    tenants = commands.add_parser("tenants", help="companies sharing this ragstore").add_subparsers(required=True)
    create_tenant = tenants.add_parser("create", parents=[common], help="add a tenant")
    create_tenant.add_argument("name")
    create_tenant.set_defaults(command=cmd_tenants_create)
    tenants.add_parser("list", parents=[common], help="list tenants").set_defaults(command=cmd_tenants_list)

    keys = commands.add_parser("keys", help="API keys of tenants").add_subparsers(required=True)
    create_key = keys.add_parser("create", parents=[common], help="make a key (printed once, on the last line)")
    create_key.add_argument("--tenant", required=True, help="tenant name or id")
    create_key.add_argument("--name", default="", help="what the key is for")
    create_key.set_defaults(command=cmd_keys_create)
    list_keys = keys.add_parser("list", parents=[common], help="list keys (never the keys themselves)")
    list_keys.add_argument("--tenant", help="only this tenant's")
    list_keys.set_defaults(command=cmd_keys_list)
    revoke = keys.add_parser("revoke", parents=[common], help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(command=cmd_keys_revoke)

    stats = commands.add_parser("stats", parents=[common], help="usage per tenant and per chunk partition")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(command=cmd_stats)
    register_import_commands(commands, common)
    register_chat_commands(commands, common)
    register_reembed_commands(commands, common)
    register_archive_commands(commands, common)
    register_float16_commands(commands, common)
    return parser


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from ragstore.api.app import create_app

    print(
        f"ragstore: serving on http://{settings.host}:{settings.port} (data in {settings.data_dir})",
        flush=True,
    )
    logging.getLogger("ragstore").setLevel(logging.INFO)  # the access lines
    # uvicorn raises the signal that stopped it again once it has shut down, with the handler it found in place:
    # this one makes a SIGTERM that ended in a graceful shutdown a clean exit (code 0), as orchestrators expect.
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        log_config=None,  # uvicorn's records go through ragstore's handler and format
        access_log=False,  # ragstore's middleware writes the access lines, with request ids
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.runtime import open_runtime
    from ragstore.worker import WorkerThreads

    runtime = open_runtime(settings)
    worker = runtime.worker()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    print(f"ragstore: worker {worker.name} waiting for jobs", flush=True)
    # The worker runs in a thread so that a shutdown can give its job a grace period, then queue it again.
    threads = WorkerThreads([worker]).start()
    try:
        while threads.threads[0].is_alive() and not stopping.wait(1.0):
            pass
    finally:
        threads.stop(settings.shutdown_grace_seconds)
        runtime.close()
    return 0 if stopping.is_set() else 1  # 1: the worker thread died of an error (logged)


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ragstore.runtime import open_runtime
    from ragstore.service import files, ingestion, stores

    strategy = ChunkingStrategy(
        args.chunk_size or AUTO.max_tokens,
        AUTO.overlap_tokens if args.chunk_overlap is None else args.chunk_overlap,
    )
    paths, skipped = _collect(args.paths)
    if not paths:
        print(
            "ragstore: no files to ingest" + (f" ({skipped} of unsupported types skipped)" if skipped else ""),
            file=sys.stderr,
        )
        return 1
    runtime = open_runtime(settings)
    try:
        tenant = tenant_id(runtime.db, args.tenant)
        store = stores.get_or_create(runtime.db, tenant, args.store, runtime.embedder, settings.text_search_language)
        file_ids = []
        for path in tqdm(paths, desc="upload", unit="file", disable=None):
            with path.open("rb") as stream:
                file_ids.append(files.upload(runtime.db, tenant, path.name, stream).id)
        batch = ingestion.create_batch(
            runtime.db, tenant, store, file_ids, strategy, max_attempts=settings.job_max_attempts
        )
        counts = _work_until_done(runtime, tenant, batch, len(file_ids))
        failures = ingestion.batch_failures(runtime.db, tenant, batch)
    finally:
        runtime.close()
    print(
        f"{store.name} ({store.id}): {counts.completed} completed, {counts.failed} failed"
        + (f", {skipped} skipped (unsupported type)" if skipped else "")
    )
    for failure in failures:
        print(f"  failed: {failure.filename}: {failure.message} ({failure.code})")
    return 2 if failures else 0


def _work_until_done(runtime: Runtime, tenant: str, batch: str, total: int) -> FileCounts:
    """Run a worker in this process while showing the batch's progress; other workers may help."""
    from tqdm import tqdm

    from ragstore.service import ingestion

    worker = runtime.worker(poll_seconds=0.2)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    with tqdm(total=total, desc="ingest", unit="file", disable=None) as bar:
        while True:
            counts = ingestion.batch_counts(runtime.db, tenant, batch)
            bar.update(counts.total - counts.in_progress - bar.n)
            if counts.in_progress == 0:
                break
            worker.stop_event.wait(0.2)
    worker.stop()
    thread.join()
    return counts


def _collect(paths: Sequence[Path]) -> tuple[list[Path], int]:
    """Files named on the command line, and the supported files under named folders; (files, skipped)."""
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


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.runtime import open_runtime
    from ragstore.service import search, stores

    runtime = open_runtime(settings)
    try:
        tenant = tenant_id(runtime.db, args.tenant)
        store_ids = [stores.resolve(runtime.db, tenant, name).id for name in args.store]
        hits = search.search(
            runtime.db, runtime.embedder, tenant, store_ids, args.query, args.k, args.threshold, ranker=args.ranker
        )
    finally:
        runtime.close()
    if args.json:
        print(json.dumps([_hit_json(hit) for hit in hits], indent=2, ensure_ascii=False))
    else:
        _print_hits(hits)
    return 0


def _hit_json(hit: SearchHit) -> dict:
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


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.runtime import open_runtime
    from ragstore.service import evaluation, files, search, stores

    dataset = evaluation.load(args.dataset)
    runtime = open_runtime(settings)
    try:
        if args.store:
            store, corpus, ingest_s = stores.resolve(runtime.db, DEFAULT_TENANT, args.store), None, 0.0
        else:
            store, corpus, ingest_s = _ingest_corpus(runtime, dataset, args.dataset.name)
        results = evaluation.evaluate(runtime.db, runtime.embedder, DEFAULT_TENANT, store.id, dataset, search.RANKERS)
        alphas = [round(0.1 * i, 1) for i in range(11)]
        swept = (
            evaluation.sweep(runtime.db, runtime.embedder, DEFAULT_TENANT, store.id, dataset, alphas)
            if (args.sweep)
            else {}
        )
        if corpus is not None and not args.keep:
            stores.delete(runtime.db, DEFAULT_TENANT, store.id)
            files.delete(runtime.db, DEFAULT_TENANT, corpus.id)
        elif corpus is not None:
            print(f"kept {store.id}: reuse it with --store {store.id}")
    finally:
        runtime.close()
    print(f"{args.dataset.name}: {len(dataset.queries)} judged queries; corpus ingested in {ingest_s:.1f} s")
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
    if args.json:
        report = {
            "dataset": str(args.dataset),
            "ingest_s": ingest_s,
            "rankers": results,
            "hybrid_sweep": {str(alpha): halves for alpha, halves in swept.items()},
        }
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _ingest_corpus(runtime: Runtime, dataset: Dataset, name: str) -> tuple[VectorStore, FileRecord, float]:
    """The corpus through the normal pipeline into a new store; (store, file, seconds)."""
    from ragstore.service import files, ingestion, stores

    language = runtime.settings.text_search_language
    store = stores.create(runtime.db, DEFAULT_TENANT, runtime.embedder, f"eval {name}", language=language)
    with dataset.corpus.open("rb") as stream:
        corpus = files.upload(runtime.db, DEFAULT_TENANT, "corpus.jsonl", stream)
    began = time.perf_counter()
    # No chunking, as BEIR scores documents: a passage is one chunk (a longer one is embedded in windows).
    batch = ingestion.create_batch(runtime.db, DEFAULT_TENANT, store, [corpus.id], ingestion.chunking(4096, 0))
    counts = _work_until_done(runtime, DEFAULT_TENANT, batch, 1)
    if counts.completed != 1:
        failures = ingestion.batch_failures(runtime.db, DEFAULT_TENANT, batch)
        raise RagstoreError(f"The corpus did not ingest: {failures[0].message if failures else 'unknown'}")
    return store, corpus, time.perf_counter() - began


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import status
    from ragstore.store.db import open_database

    db = open_database(settings)
    try:
        applied, pending = status.migrations(db)
    finally:
        db.close()
    print(f"migrations: {applied} applied, {pending} pending")
    return 0


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.ingest.embed import local_model_path
    from ragstore.service import status
    from ragstore.store.db import open_database

    db = open_database(settings, apply_migrations=False)
    try:
        server = status.server(db)
        applied, pending = status.migrations(db)
        jobs = status.job_counts(db) if applied else {}
    finally:
        db.close()
    source = settings.embedding_base_url or f"local, {local_model_path()}"
    rows = [
        ("database", server.url + ("" if settings.database_url else "  (embedded)")),
        ("postgresql", server.server_version),
        ("pgvector", server.pgvector_version),
        ("embedding", f"{settings.embedding_model}, {settings.embedding_dimensions} dimensions ({source})"),
        ("data dir", str(settings.data_dir)),
        ("migrations", f"{applied} applied, {pending} pending"),
        ("jobs", ", ".join(f"{n} {state}" for state, n in sorted(jobs.items())) or "none"),
    ]
    for key, value in rows:
        print(f"{key:<11} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
