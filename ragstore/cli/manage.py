"""`ragstore stores list|show|delete`, `ragstore files list|show|delete` and `ragstore batches list`: what a tenant
holds, from the terminal.

Each command calls the same service functions as the HTTP API (so the same tenancy and the same errors), prints a
table or, with --json, the same records as JSON. A delete asks first unless --yes is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ragstore.cli import context
from ragstore.cli.context import DataDir, Tenant, Verbose

if TYPE_CHECKING:
    from ragstore.models import Page, PageRequest, VectorStore

T = TypeVar("T")

app = typer.Typer()
stores_app = typer.Typer(help="The vector stores of a tenant.", no_args_is_help=True)
files_app = typer.Typer(help="The files of a tenant, or of one of its stores.", no_args_is_help=True)
app.add_typer(stores_app, name="stores")
batches_app = typer.Typer(help="The file batches of a store, made from any client.", no_args_is_help=True)
app.add_typer(files_app, name="files")
app.add_typer(batches_app, name="batches")

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="do not ask before deleting")]
StoreOption = Annotated[str | None, typer.Option("--store", help="vector store name or id")]


@stores_app.command("list", epilog="Example: ragstore stores list --tenant acme --json")
def list_stores(
    tenant: Tenant = None, as_json: AsJson = False, data_dir: DataDir = None, verbose: Verbose = False
) -> int:
    """List the tenant's vector stores, newest first, with their files and size."""
    from ragstore.service import stores

    with context.database(context.settings(data_dir, verbose)) as db:
        tenant_id = context.tenant_id(db, tenant)
        found = list(_all(lambda page: stores.list_stores(db, tenant_id, page), lambda store: store.id))
    if as_json:
        return _print_json([_store_json(store) for store in found])
    print(f"{'id':<29} {'name':<24} {'status':<11} {'files':>6} {'failed':>6} {'bytes':>12}  created")
    for store in found:
        counts = store.file_counts
        print(
            f"{store.id:<29} {store.name[:24]:<24} {store.status:<11} {counts.total:>6} {counts.failed:>6}"
            f" {store.usage_bytes:>12}  {context.when(store.created_at)}"
        )
    return 0


@stores_app.command("show", epilog="Example: ragstore stores show handbook")
def show_store(
    store: Annotated[str, typer.Argument(help="vector store name or id")],
    tenant: Tenant = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """A vector store: its model, language, file counts, size, expiry and metadata."""
    from ragstore.service import stores

    with context.database(context.settings(data_dir, verbose)) as db:
        found = stores.resolve(db, context.tenant_id(db, tenant), store)
    shown = _store_json(found)
    if as_json:
        return _print_json(shown)
    for key, value in shown.items():
        print(f"{key + ':':<22} {'-' if value is None else value}")
    return 0


@stores_app.command("delete", epilog="Example: ragstore stores delete handbook --yes")
def delete_store(
    store: Annotated[str, typer.Argument(help="vector store name or id")],
    tenant: Tenant = None,
    yes: Yes = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Delete a vector store and its chunks; its files stay (`ragstore files delete` removes them)."""
    from ragstore.service import stores

    with context.database(context.settings(data_dir, verbose)) as db:
        tenant_id = context.tenant_id(db, tenant)
        found = stores.resolve(db, tenant_id, store)
        if not _confirmed(f"Delete {found.name} ({found.id}) and its chunks?", yes):
            return 1
        stores.delete(db, tenant_id, found.id)
    print(f"deleted {found.id}")
    return 0


@files_app.command("list", epilog="Example: ragstore files list --store handbook --status failed")
def list_files(
    store: StoreOption = None,
    status: Annotated[
        str | None, typer.Option(help="with --store: in_progress, completed, failed or cancelled")
    ] = None,
    tenant: Tenant = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """List the tenant's files, or a store's with their ingestion status and error."""
    from ragstore.errors import InvalidRequest
    from ragstore.service import files, stores, vector_store_files

    with context.database(context.settings(data_dir, verbose)) as db:
        tenant_id = context.tenant_id(db, tenant)
        if store is None:
            if status is not None:
                raise InvalidRequest("--status needs --store: a file's status is its ingestion into a store.")
            records = list(_all(lambda page: files.list_files(db, tenant_id, None, page), lambda record: record.id))
            rows = [_file_json(record) for record in records]
        else:
            store_id = stores.resolve(db, tenant_id, store).id
            attached = list(
                _all(
                    lambda page: vector_store_files.list_files(db, tenant_id, store_id, page, status=status),
                    lambda item: item.file_id,
                )
            )
            names = {record.id: record.filename for record in _files_named(db, tenant_id, attached)}
            rows = [_attached_json(item, names.get(item.file_id)) for item in attached]
    if as_json:
        return _print_json(rows)
    _print_file_rows(rows, in_store=store is not None)
    return 0


@files_app.command("show", epilog="Example: ragstore files show file-abc123 --store handbook")
def show_file(
    file_id: Annotated[str, typer.Argument(metavar="FILE_ID", help="the file's id")],
    store: Annotated[str | None, typer.Option("--store", help="also its ingestion into this store")] = None,
    tenant: Tenant = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """A file: its name, size, digest and dates; with --store, its status, error and attributes in that store."""
    from ragstore.service import files, stores, vector_store_files

    with context.database(context.settings(data_dir, verbose)) as db:
        tenant_id = context.tenant_id(db, tenant)
        shown = _file_json(files.get(db, tenant_id, file_id))
        if store is not None:
            store_id = stores.resolve(db, tenant_id, store).id
            attached = vector_store_files.get(db, tenant_id, store_id, file_id)
            shown |= {"in_store": _attached_json(attached, None)}
    if as_json:
        return _print_json(shown)
    for key, value in shown.items():
        if isinstance(value, dict):
            for inner, item in value.items():
                if inner not in ("file_id", "filename"):
                    print(f"{inner + ':':<22} {'-' if item is None else item}")
        else:
            print(f"{key + ':':<22} {'-' if value is None else value}")
    return 0


@files_app.command("delete", epilog="Example: ragstore files delete file-abc123 --yes")
def delete_file(
    file_id: Annotated[str, typer.Argument(metavar="FILE_ID", help="the file's id")],
    tenant: Tenant = None,
    yes: Yes = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Delete a file and its chunks from every vector store."""
    from ragstore.service import files

    with context.database(context.settings(data_dir, verbose)) as db:
        tenant_id = context.tenant_id(db, tenant)
        record = files.get(db, tenant_id, file_id)
        if not _confirmed(f"Delete {record.filename} ({record.id}) from every store?", yes):
            return 1
        files.delete(db, tenant_id, record.id)
    print(f"deleted {record.id}")
    return 0


@batches_app.command("list", epilog="Example: ragstore batches list --store handbook --json")
def list_batches(
    store: Annotated[str, typer.Option("--store", help="vector store name or id")],
    tenant: Tenant = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """List a store's file batches, newest first, with their status and file counts."""
    from ragstore.service import stores, vector_store_files

    with context.database(context.settings(data_dir, verbose)) as db:
        tenant_id = context.tenant_id(db, tenant)
        store_id = stores.resolve(db, tenant_id, store).id
        found = list(
            _all(lambda page: vector_store_files.list_batches(db, tenant_id, store_id, page), lambda batch: batch.id)
        )
    if as_json:
        rows = [
            {"id": b.id, "status": b.status, "files": asdict(b.file_counts), "created_at": _time(b.created_at)}
            for b in found
        ]
        return _print_json(rows)
    print(f"{'id':<32} {'status':<11} {'files':>6} {'done':>6} {'failed':>6}  created")
    for batch in found:
        counts = batch.file_counts
        print(
            f"{batch.id:<32} {batch.status:<11} {counts.total:>6} {counts.completed:>6} {counts.failed:>6}"
            f"  {context.when(batch.created_at)}"
        )
    return 0


def _confirmed(question: str, yes: bool) -> bool:
    """--yes, or a yes at the terminal; without a terminal to ask on, nothing is deleted."""
    import sys

    if yes:
        return True
    if not sys.stdin.isatty():
        context.fail("nothing deleted: give --yes to delete without a terminal to ask on")
        return False
    if typer.confirm(question):
        return True
    context.fail("nothing deleted")
    return False


def _all(fetch: Callable[[PageRequest], Page[T]], cursor: Callable[[T], str]) -> Iterator[T]:
    """Every item of a paged list, page after page, newest first; cursor gives the id to page on from."""
    from ragstore.models import PageRequest

    page = PageRequest(limit=100)
    while True:
        found = fetch(page)
        yield from found.items
        if not found.has_more or not found.items:
            return
        page = PageRequest(limit=100, after=cursor(found.items[-1]))


def _files_named(db: Any, tenant_id: str, attached: list[Any]) -> Iterator[Any]:
    from ragstore.errors import FileNotFound
    from ragstore.service import files

    for item in attached:
        try:
            yield files.get(db, tenant_id, item.file_id)
        except FileNotFound:
            continue  # deleted since it was listed


def _store_json(store: VectorStore) -> dict[str, Any]:
    return {
        "id": store.id,
        "name": store.name,
        "status": store.status,
        "embedding_model": store.embedding_model,
        "embedding_dimension": store.embedding_dim,
        "text_search_language": store.text_search_language,
        "files": asdict(store.file_counts),
        "usage_bytes": store.usage_bytes,
        "created_at": _time(store.created_at),
        "last_active_at": _time(store.last_active_at),
        "expires_at": _time(store.expires_at),
        "description": store.description,
        "metadata": store.metadata,
    }


def _file_json(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "filename": record.filename,
        "purpose": record.purpose,
        "bytes": record.bytes,
        "sha256": record.sha256,
        "created_at": _time(record.created_at),
        "expires_at": _time(record.expires_at),
    }


def _attached_json(item: Any, filename: str | None) -> dict[str, Any]:
    return {
        "file_id": item.file_id,
        "filename": filename,
        "status": item.status,
        "error": f"{item.last_error_code}: {item.last_error_message}" if item.last_error_code else None,
        "batch_id": item.batch_id,
        "usage_bytes": item.usage_bytes,
        "chunking": f"{item.chunk_size_tokens}/{item.chunk_overlap_tokens} tokens",
        "attributes": item.attributes,
        "created_at": _time(item.created_at),
    }


def _print_file_rows(rows: list[dict[str, Any]], *, in_store: bool) -> None:
    if in_store:
        print(f"{'file id':<29} {'filename':<30} {'status':<11} {'bytes':>10}  error")
        for row in rows:
            name = (row["filename"] or "-")[:30]
            print(f"{row['file_id']:<29} {name:<30} {row['status']:<11} {row['usage_bytes']:>10}  {row['error'] or ''}")
        return
    print(f"{'file id':<29} {'filename':<30} {'bytes':>10}  created")
    for row in rows:
        print(f"{row['id']:<29} {row['filename'][:30]:<30} {row['bytes']:>10}  {row['created_at'][:16]}")


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _print_json(value: Any) -> int:
    print(json.dumps(value, indent=2, ensure_ascii=False))
    return 0
