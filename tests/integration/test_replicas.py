"""Read replicas against a real streaming standby: a primary and a hot standby made by pg_basebackup -R from it,
both the embedded PostgreSQL 18, in temporary directories, for the whole module.

That a read was served by the standby is proven by the standby itself: with its replay paused, a change made on the
primary behind ragstore's back does not show in ragstore's reads until the replay resumes.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from ragstore import telemetry
from ragstore.errors import VectorStoreNotFound
from ragstore.models import DEFAULT_TENANT
from ragstore.service import search, stores, tenants
from ragstore.store import embedded, migrate, standby
from ragstore.store.db import Database
from ragstore.store.replicas import lsn
from tests.conftest import with_database
from tests.support.documents import Document, corpus
from tests.support.ingesting import ingest
from tests.support.served import wait_for

DATABASE = "ragstore_replicas"
LOAD_CLIENTS = 8


@dataclass
class Pair:
    primary_url: str
    standby_url: str
    standby_dir: Path

    def on_standby(self) -> psycopg.Connection:
        return psycopg.connect(self.standby_url, autocommit=True, row_factory=dict_row)

    def pause_replay(self) -> None:
        with self.on_standby() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with self.on_standby() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    folder = Path(tempfile.mkdtemp(prefix="ragstore-rep-"))  # short: the sockets live in the data directories
    primary = embedded.start(folder / "pgdata")
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")
    primary_url = with_database(primary, DATABASE)
    with psycopg.connect(primary_url, autocommit=True, row_factory=dict_row) as conn:
        migrate.apply(conn)
    standby_dir = folder / "standby"
    standby.create(Path(conninfo_to_dict(primary)["host"]), standby_dir)
    standby.start(standby_dir)
    try:
        yield Pair(primary_url, standby.url(standby_dir, DATABASE), standby_dir)
    finally:
        standby.stop(standby_dir, mode="immediate")
        embedded.stop(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def rdb(pair: Pair) -> Iterator[Database]:
    database = Database(pair.primary_url, pool_size=LOAD_CLIENTS + 2, replica_urls=[pair.standby_url])
    database.open()
    assert database.replicas is not None
    yield database
    database.close()


@pytest.fixture(scope="module")
def handbook(rdb: Database, embedder, chunker):
    """A tenant of its own with a store of three documents."""
    tenant = tenants.create_tenant(rdb, "replicated")
    store, _ = ingest(rdb, embedder, chunker, corpus()[:3], tenant_id=tenant.id)
    return tenant.id, store


def reads(server: str, reason: str) -> float:
    return telemetry.DATABASE_READS.labels(server, reason)._value.get()


def state(db: Database) -> str:
    assert db.replicas is not None
    return db.replicas.statuses()[0].state


def replayed_everything(pair: Pair) -> bool:
    with psycopg.connect(pair.primary_url, autocommit=True) as primary, pair.on_standby() as replica:
        written = primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
        replayed = replica.execute("SELECT pg_last_wal_replay_lsn()::text AS r").fetchone()["r"]
    return lsn(replayed) >= lsn(written)


def test_the_standby_streams_and_refuses_writes(pair):
    with pair.on_standby() as conn:
        assert conn.execute("SELECT pg_is_in_recovery() AS r").fetchone()["r"] is True
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("UPDATE vector_stores SET name = name")


def test_reads_are_served_by_the_standby(pair, rdb, handbook, embedder):
    tenant_id, store = handbook
    wait_for(lambda: replayed_everything(pair), "the standby to catch up")
    pair.pause_replay()
    try:
        # Behind ragstore's back (no write of its own is recorded for the tenant): only the primary has it.
        with psycopg.connect(pair.primary_url, autocommit=True) as conn:
            conn.execute("UPDATE vector_stores SET name = 'renamed' WHERE id = %s", (store.id,))
        before = reads("replica1", "replica")
        assert stores.get(rdb, tenant_id, store.id).name == "handbook"  # the standby's stale copy
        assert reads("replica1", "replica") == before + 1
        hits = search.search(rdb, embedder, tenant_id, [store.id], "What is the refund policy?", k=3)
        assert hits and reads("replica1", "replica") == before + 2
    finally:
        pair.resume_replay()
    wait_for(lambda: stores.get(rdb, tenant_id, store.id).name == "renamed", "the standby to replay the rename")


def test_a_search_right_after_an_upload_sees_the_new_file(pair, rdb, handbook, embedder, chunker):
    """With the standby's replay paused, the search cannot find the file there: it must go to the primary."""
    tenant_id, store = handbook
    fresh = Document("lighthouse.txt", b"The lighthouse keeper polishes the great lens every Tuesday at dawn.", "", "")
    pair.pause_replay()
    try:
        behind = reads("primary", "behind")
        ingest(rdb, embedder, chunker, [fresh], store=store, tenant_id=tenant_id)
        hits = search.search(rdb, embedder, tenant_id, [store.id], "Who polishes the lens of the lighthouse?", k=3)
        assert hits[0].filename == "lighthouse.txt"
        assert reads("primary", "behind") > behind
    finally:
        pair.resume_replay()
    # Replay resumed: the same search is the standby's again, and it finds the file there too.
    wait_for(lambda: replayed_everything(pair), "the standby to catch up")
    served = reads("replica1", "replica")
    hits = search.search(rdb, embedder, tenant_id, [store.id], "Who polishes the great lens?", k=3)
    assert hits[0].filename == "lighthouse.txt" and reads("replica1", "replica") > served


def test_standby_stopped_mid_load_fails_no_request_and_returns_to_rotation(pair, rdb, handbook, embedder):
    tenant_id, store = handbook
    questions = ["What is the refund policy?", "How do I reset my password?", "Where is the office?"]
    failures: list[BaseException] = []
    done = {"searches": 0}
    stop = threading.Event()
    lock = threading.Lock()

    def client(n: int) -> None:
        while not stop.is_set():
            try:
                search.search(rdb, embedder, tenant_id, [store.id], questions[n % 3], k=3)
            except BaseException as exc:  # every failure counts, whatever it is
                failures.append(exc)
            with lock:
                done["searches"] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(LOAD_CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: done["searches"] >= 50, "searches on the standby")
        standby.stop(pair.standby_dir, mode="fast")  # ends the standby's sessions, mid-query for some
        stopped_at = done["searches"]
        wait_for(lambda: done["searches"] >= stopped_at + 50, "searches with the standby down")
        assert state(rdb) == "down"
        on_primary = reads("primary", "no_replica")
        standby.start(pair.standby_dir)
        wait_for(lambda: state(rdb) == "up", "the standby back in rotation", timeout=120)
        served = reads("replica1", "replica")
        wait_for(lambda: reads("replica1", "replica") >= served + 20, "searches on the standby again")
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert failures == []
    assert on_primary > 0


def test_no_tenant_sees_another_ones_rows_on_the_standby(pair, rdb, handbook, embedder, chunker):
    tenant_id, store = handbook
    other = tenants.create_tenant(rdb, "other")
    theirs, _ = ingest(rdb, embedder, chunker, corpus()[3:5], tenant_id=other.id)
    wait_for(lambda: replayed_everything(pair), "the standby to catch up")
    served = reads("replica1", "replica")
    leaks = 0
    for probe in ["refund policy", "password", "office", "security", "holiday"]:
        with pytest.raises(VectorStoreNotFound):
            search.search(rdb, embedder, tenant_id, [theirs.id], probe, k=5)
        with pytest.raises(VectorStoreNotFound):
            search.search(rdb, embedder, other.id, [store.id], probe, k=5)
        for ranker in ("dense", "lexical", "hybrid"):
            hits = search.search(rdb, embedder, other.id, [theirs.id], probe, k=20, ranker=ranker)
            leaks += sum(hit.file_id not in _file_ids(rdb, other.id, theirs.id) for hit in hits)
    assert leaks == 0
    assert reads("replica1", "replica") >= served + 25
    # Row-level security holds on the standby itself: as the application role, the other tenant's rows are absent.
    with pair.on_standby() as conn, conn.transaction():
        conn.execute(
            "SELECT set_config('role', 'ragstore_app', true), set_config('ragstore.tenant_id', %s, true)", (other.id,)
        )
        owners = {row["tenant_id"] for row in conn.execute("SELECT tenant_id FROM chunks")}
        assert owners == {other.id}
    assert DEFAULT_TENANT not in owners


def _file_ids(db: Database, tenant_id: str, store_id: str) -> set[str]:
    with db.tenant(tenant_id) as conn:
        return {
            row["file_id"]
            for row in conn.execute("SELECT file_id FROM vector_store_files WHERE vector_store_id = %s", (store_id,))
        }
