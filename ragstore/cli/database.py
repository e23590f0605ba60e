"""`ragstore migrate`, `doctor`, `stats` and `check`: the database's schema, server, sizes and integrity."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from ragstore.cli import context, progress
from ragstore.cli.context import DataDir, Verbose

if TYPE_CHECKING:
    from ragstore.runtime import Runtime
    from ragstore.service import Database
    from ragstore.service.integrity import Findings, Repairs

app = typer.Typer()


@app.command()
def migrate(data_dir: DataDir = None, verbose: Verbose = False) -> int:
    """Apply pending database migrations (start-up does it too)."""
    from ragstore.service import status

    with context.database(context.settings(data_dir, verbose)) as db:
        applied, pending = status.migrations(db)
    print(f"migrations: {applied} applied, {pending} pending")
    return 0


@app.command(epilog="Example: RAGSTORE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres ragstore doctor")
def doctor(data_dir: DataDir = None, verbose: Verbose = False) -> int:
    """Show what ragstore runs on: database, PostgreSQL and pgvector versions, model, data directory."""
    from ragstore.ingest.embed import local_model_path
    from ragstore.service import status

    settings = context.settings(data_dir, verbose)
    with context.database(settings, migrate=False) as db:
        server = status.server(db)
        applied, pending = status.migrations(db)
        jobs = status.job_counts(db) if applied else {}
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


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Usage per tenant, each store's embedding space (provider, model, dimension), and per chunk partition."""
    from ragstore.service import tenants

    with context.database(context.settings(data_dir, verbose)) as db:
        found = tenants.stats(db)
    if as_json:
        print(json.dumps(found, indent=2, default=str))
        return 0
    print(f"{'tenant':<20} {'partition':<10} {'chunks':>9} {'files':>6} {'stores':>6} {'file bytes':>12}")
    for row in found["tenants"]:
        print(
            f"{row['name']:<20} {row['partition'] or '-':<10} {row['chunks']:>9} {row['files']:>6}"
            f" {row['vector_stores']:>6} {row['file_bytes']:>12}"
        )
    print(f"\n{'tenant':<20} {'vector store':<32} {'provider':<12} {'model':<28} {'dim':>5} {'chunks':>9}")
    for row in found["vector_stores"]:
        print(
            f"{row['tenant']:<20} {row['name'] or row['id']:<32} {row['provider']:<12} {row['model']:<28}"
            f" {row['dimension']:>5} {row['chunks']:>9}"
        )
    print(f"\n{'partition':<10} {'rows':>9} {'dead':>7} {'table bytes':>12} {'index bytes':>12}  last vacuum")
    for row in found["partitions"]:
        print(
            f"{row['partition']:<10} {row['live_rows']:>9} {row['dead_rows']:>7} {row['table_bytes']:>12}"
            f" {row['index_bytes']:>12}  {context.when(row['last_vacuum'])}"
        )
    return 0


@app.command(epilog="Example: ragstore check --tenant acme --repair")
def check(
    repair: Annotated[bool, typer.Option("--repair", help="repair what was found")] = False,
    tenant: Annotated[str | None, typer.Option(help="only this tenant (default: every tenant)")] = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Find orphan chunks, files without chunks, count mismatches, stale embeddings; exit 2 if any is left."""
    settings = context.settings(data_dir, verbose)
    # The model is loaded only to repair: re-embedding and re-ingesting need it, finding problems does not.
    if repair:
        with context.runtime(settings) as runtime:
            return _check(runtime.db, runtime, tenant)
    with context.database(settings) as db:
        return _check(db, None, tenant)


def _check(db: Database, runtime: Runtime | None, tenant: str | None) -> int:
    """Each tenant's findings, repaired when a runtime is given; 2 when problems are left, else 0."""
    from ragstore.service import integrity

    remaining = 0
    for tenant_id, name in _tenants(db, tenant).items():
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

    progress.work_until(runtime, left, repairs.requeued_files)


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
        f"{_count(repairs.requeued_files, 'file')} ingested again, "
        f"{_count(repairs.detached_files, 'duplicate file')} detached"
    )
    for reason in repairs.skipped:
        print(f"  not repaired: {reason}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
