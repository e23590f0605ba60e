"""A use case that changes data is one transaction: counted (every statement of ragstore takes a pooled connection,
and each use case takes one, for one tenant transaction), and proven by failing midway and finding nothing written.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator

import pytest

from ragstore.errors import FileNotFound, RagstoreError
from ragstore.ingest.chunk import AUTO
from ragstore.models import DEFAULT_TENANT, PageRequest
from ragstore.service import files, ingestion, stores, vector_store_files
from ragstore.service.ingestion import FileSpec
from ragstore.store import vector_store_files as vector_store_file_rows
from ragstore.store.db import Database
from tests.support.documents import Document
from tests.support.ingesting import ingest

T = DEFAULT_TENANT
FIRST_PAGE = PageRequest(20, "desc", None, None)
COFFEE = Document("coffee.txt", b"The coffee machine on the third floor is descaled every Friday.", "", "")


class Broken(RagstoreError):
    """A failure injected after the use case's first writes."""


@contextlib.contextmanager
def checkouts(db: Database) -> Iterator[list[str]]:
    """The pooled connections taken while inside (a tenant transaction takes one; so does each statement outside
    one), by the kind of use: 'tenant' (a read-only one of db.reader too) or 'system'."""
    taken: list[str] = []
    connection, tenant, reader = db.connection, db.tenant, db.reader

    def counted_connection():
        taken.append("system")
        return connection()

    @contextlib.contextmanager
    def counted_tenant(tenant_id: str):
        with tenant(tenant_id) as conn:
            taken[-1] = "tenant"  # tenant() took its connection through connection()
            yield conn

    @contextlib.contextmanager
    def counted_reader(tenant_id: str, conn=None):
        with reader(tenant_id, conn) as own:
            if conn is None:
                taken[-1] = "tenant"  # without replicas, reader() takes the primary's through connection()
            yield own

    db.connection, db.tenant, db.reader = counted_connection, counted_tenant, counted_reader
    try:
        yield taken
    finally:
        del db.connection, db.tenant, db.reader


def fail_after(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
    """Make module.name do its work, then raise (a failure after a write of the use case)."""
    real = getattr(module, name)

    def broken(*args, **kwargs):
        real(*args, **kwargs)
        raise Broken("injected after the write")

    monkeypatch.setattr(module, name, broken)


def upload(db: Database, name: str = "coffee.txt") -> str:
    return files.upload(db, T, name, io.BytesIO(COFFEE.data)).id


def counts(db: Database) -> dict[str, int]:
    """Rows of the tables an attach, a batch or a new store write."""
    with db.connection() as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM vector_stores) AS stores, (SELECT count(*) FROM vector_store_files) AS "
            "attached, (SELECT count(*) FROM file_batches) AS batches, (SELECT count(*) FROM jobs) AS jobs"
        ).fetchone()
    return dict(row)


@pytest.fixture
def store(db, embedder):
    return stores.create(db, T, embedder, "transactions")


def test_the_counter_sees_every_transaction(db, store):
    """The check can fail: three service calls are three transactions."""
    with checkouts(db) as taken:
        stores.get(db, T, store.id)
        stores.touch(db, T, store.id)
        stores.get(db, T, store.id)
    assert taken == ["tenant", "tenant", "tenant"]


USE_CASES: dict[str, Callable[[Database, str, str], object]] = {
    "attach a file": lambda db, store_id, file_id: vector_store_files.attach(db, T, store_id, FileSpec(file_id)),
    "update its attributes": lambda db, store_id, file_id: vector_store_files.update_attributes(
        db, T, store_id, file_id, {"team": "facilities"}
    ),
    "detach it": lambda db, store_id, file_id: vector_store_files.detach(db, T, store_id, file_id),
    "read its content": lambda db, store_id, file_id: vector_store_files.content(db, T, store_id, file_id),
    "list the store's files": lambda db, store_id, file_id: vector_store_files.list_files(db, T, store_id, FIRST_PAGE),
    "create a batch": lambda db, store_id, file_id: vector_store_files.create_batch(
        db, T, store_id, [FileSpec(file_id)]
    ),
    "update the store": lambda db, store_id, file_id: stores.update(db, T, store_id, {"name": "renamed"}),
}


@pytest.mark.parametrize("use_case", list(USE_CASES))
def test_each_use_case_is_one_transaction(db, store, use_case):
    file_id = upload(db)
    if use_case != "attach a file":
        vector_store_files.attach(db, T, store.id, FileSpec(file_id))
    with checkouts(db) as taken:
        USE_CASES[use_case](db, store.id, file_id)
    assert taken == ["tenant"]


def test_creating_a_store_with_files_is_one_transaction(db, embedder):
    file_ids = [upload(db, "a.txt"), upload(db, "b.txt")]
    with checkouts(db) as taken:
        created = stores.create(db, T, embedder, "with files", file_ids=file_ids)
    assert taken == ["tenant"]
    assert created.file_counts.in_progress == 2


def test_cancelling_a_batch_is_one_transaction(db, store):
    batch = vector_store_files.create_batch(db, T, store.id, [FileSpec(upload(db))])
    with checkouts(db) as taken:
        cancelled = vector_store_files.cancel_batch(db, T, store.id, batch.id)
    assert taken == ["tenant"]
    assert cancelled.file_counts.cancelled == 1


def test_a_bad_file_id_after_a_good_one_leaves_no_store(db, embedder):
    before = counts(db)
    with pytest.raises(FileNotFound):
        stores.create(db, T, embedder, "half", file_ids=[upload(db), "file-missing"])
    assert counts(db) == before  # the store and the good file's attachment and job were undone with it


def test_an_attach_that_fails_after_writing_leaves_nothing(db, store, monkeypatch):
    file_id = upload(db)
    before = counts(db)
    fail_after(monkeypatch, stores, "touch")  # after the attachment and its job are written
    with pytest.raises(Broken):
        vector_store_files.attach(db, T, store.id, FileSpec(file_id))
    assert counts(db) == before
    assert stores.get(db, T, store.id).last_active_at == store.last_active_at


def test_a_batch_that_fails_after_writing_leaves_nothing(db, store, monkeypatch):
    specs = [FileSpec(upload(db, "a.txt")), FileSpec(upload(db, "b.txt"))]
    before = counts(db)
    fail_after(monkeypatch, stores, "touch")
    with pytest.raises(Broken):
        vector_store_files.create_batch(db, T, store.id, specs)
    assert counts(db) == before


def test_an_attributes_update_that_fails_after_writing_changes_nothing(db, embedder, chunker, monkeypatch):
    store, _ = ingest(db, embedder, chunker, [COFFEE], attributes={"team": "hr"})
    file_id = vector_store_files.list_files(db, T, store.id, FIRST_PAGE).items[0].file_id
    fail_after(monkeypatch, vector_store_file_rows, "set_vector_store_file_attributes")  # files' and chunks' rows
    with pytest.raises(Broken):
        vector_store_files.update_attributes(db, T, store.id, file_id, {"team": "facilities"})
    assert vector_store_files.get(db, T, store.id, file_id).attributes == {"team": "hr"}
    with db.connection() as conn:
        chunk_attributes = [row["attributes"] for row in conn.execute("SELECT attributes FROM chunks")]
    assert chunk_attributes and all(attributes == {"team": "hr"} for attributes in chunk_attributes)


def test_a_caller_can_join_several_calls_in_its_transaction(db, store, embedder):
    """The optional connection: a caller's transaction holds the service calls it makes, and undoes them all."""
    file_id = upload(db)
    before = counts(db)
    with pytest.raises(Broken), db.transaction(T) as conn:
        other = stores.create(db, T, embedder, "joined", conn=conn)
        ingestion.attach(db, T, other, [FileSpec(file_id, AUTO)], batch=True, conn=conn)
        assert counts_in(conn)["attached"] == before["attached"] + 1
        raise Broken("the caller changes its mind")
    assert counts(db) == before


def counts_in(conn) -> dict[str, int]:
    return dict(conn.execute("SELECT count(*) AS attached FROM vector_store_files").fetchone())
