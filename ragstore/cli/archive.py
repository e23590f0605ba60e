"""`ragstore backup`, `restore` and `verify`: portable archives of vector stores or of a whole tenant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragstore.cli import context, progress
from ragstore.cli.context import DataDir, Verbose
from ragstore.errors import InvalidRequest

app = typer.Typer()

Archive = Annotated[Path, typer.Argument(metavar="FILE", help="the archive", show_default=False)]


@app.command(
    epilog="Examples: ragstore backup --store handbook -o handbook.zip; ragstore backup --tenant default -o default.zip"
)
def backup(
    output: Annotated[Path, typer.Option("-o", "--output", metavar="FILE", help="the archive to write")],
    store: Annotated[
        list[str] | None, typer.Option(metavar="NAME", help="vector store name or id (repeatable)")
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="tenant name or id; without --store: the whole tenant, chat data included")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="replace FILE if it exists")] = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Write vector stores, or a whole tenant, to a portable archive."""
    from ragstore.archive import dump

    settings = context.settings(data_dir, verbose)
    if not store and not tenant:
        raise InvalidRequest("Say what to back up: --store NAME (repeatable), or --tenant NAME for a whole tenant.")
    if output.is_dir():
        raise InvalidRequest(f"{output} is a folder: give the archive's file name.")
    if output.exists() and not force:
        raise InvalidRequest(f"{output} exists: give another name, or --force to replace it.")
    with context.database(settings) as db:
        scope = dump.resolve_scope(db, tenant, store or ())
        report = dump.backup(db, scope, output, progress=progress.bar)
    stores = ", ".join(f"{name} ({store_id})" for store_id, name in report.stores.items())
    what = f"tenant {scope.tenant_name}" if scope.store_ids is None else f"{stores} of tenant {scope.tenant_name}"
    print(f"backed up {what} to {report.path} ({report.bytes:,} bytes) in {report.seconds:.1f} s")
    _print_counts(report.counts)
    return 0


@app.command(epilog="Example: RAGSTORE_DATA_DIR=/elsewhere ragstore restore default.zip --tenant acme")
def restore(
    archive: Archive,
    tenant: Annotated[
        str | None, typer.Option(help="restore into this tenant, created if missing (default: the archive's own)")
    ] = None,
    store_name: Annotated[str | None, typer.Option(help="a new name for the archive's vector store")] = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Restore an archive (ids kept, nothing re-embedded)."""
    from ragstore.archive import load

    settings = context.settings(data_dir, verbose)
    with context.database(settings) as db:  # migrated first: an empty database becomes a ragstore
        model = (settings.embedding_model, settings.embedding_dimensions)
        report = load.restore(
            db,
            archive,
            model,
            tenant=tenant,
            store_name=store_name,
            providers=settings.embedding_providers,
            progress=progress.bar,
        )
    target = report.target
    created = " (created)" if target.create else ""
    print(
        f"restored {archive} into tenant {target.tenant_name} ({target.tenant_id}){created} in {report.seconds:.1f} s"
    )
    _print_counts(report.counts)
    if report.shared_files:
        print(f"{report.shared_files} file(s) were there already with the same bytes, and are shared")
    return 0


@app.command("verify", epilog="Example: ragstore verify default.zip --samples 10; exit 2 when a check fails")
def verify_archive(
    archive: Archive,
    tenant: Annotated[
        str | None, typer.Option(help="the tenant holding the stores (default: the archive's own)")
    ] = None,
    samples: Annotated[int, typer.Option(help="sample queries per store")] = 5,
    k: Annotated[int, typer.Option("-k", help="results compared per sample query, 1..50")] = 10,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Check an archive against the live store(s)."""
    from ragstore.archive import verify
    from ragstore.service import search

    settings = context.settings(data_dir, verbose)
    if not 1 <= k <= search.MAX_RESULTS or samples < 0:
        raise InvalidRequest(f"-k is 1..{search.MAX_RESULTS} and --samples 0 or more.")
    with context.runtime(settings) as runtime:
        checks = verify.verify(
            runtime.db, runtime.embedder, archive, tenant=tenant, samples=samples, k=k, progress=progress.bar
        )
    width = max(len(check.name) for check in checks)
    for check in checks:
        print(f"{check.status.upper():<4}  {check.name:<{width}}  {check.detail}")
    failed = sum(check.failed for check in checks)
    print(f"verify: {failed} of {len(checks)} checks failed" if failed else f"verify: all {len(checks)} checks passed")
    return 2 if failed else 0


def _print_counts(counts: dict[str, int]) -> None:
    for kind, count in counts.items():
        print(f"  {kind:<20} {count:>10,}")
