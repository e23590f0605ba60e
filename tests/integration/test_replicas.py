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

import httpx
import psycopg
import pytest
import uvicorn
from openai import OpenAI
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from ragstore import telemetry
from ragstore.api.app import create_app
from ragstore.config import Settings
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
API_KEY = "sk-ragstore-replicas"


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


@pytest.fixture
def served(pair: Pair, embedder, tmp_path: Path) -> Iterator[str]:
    """`ragstore serve`'s app on the primary with the standby as its replica, in a thread, on a free port."""
    settings = Settings(
        database_url=pair.primary_url,
        database_replica_urls=pair.standby_url,
        data_dir=tmp_path / "data",
        api_key=API_KEY,
        workers=1,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, embedder), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), "the server to start")
    assert thread.is_alive(), "the server did not start"
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(60)


def test_the_api_searches_on_the_standby_and_readyz_and_metrics_show_it(pair, served):
    client = OpenAI(base_url=f"{served}/v1", api_key=API_KEY, max_retries=0)
    uploaded = client.files.create(
        file=("tides.txt", b"Spring tides come twice a month, at new and full moon."), purpose="assistants"
    )
    store = client.vector_stores.create(name="tides", file_ids=[uploaded.id])
    wait_for(
        lambda: client.vector_stores.files.retrieve(uploaded.id, vector_store_id=store.id).status == "completed",
        "ingestion",
    )
    served_before = reads("replica1", "replica")
    results = client.vector_stores.search(store.id, query="When do spring tides come?")
    assert results.data[0].filename == "tides.txt"  # right after the upload completed
    wait_for(lambda: replayed_everything(pair), "the standby to catch up")
    again = client.vector_stores.search(store.id, query="How often are spring tides?")
    assert again.data[0].filename == "tides.txt" and reads("replica1", "replica") > served_before
    ready = httpx.get(f"{served}/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json()["checks"]["replica1"]["detail"].startswith("up: replay")
    metrics = httpx.get(f"{served}/metrics", timeout=10).text
    assert 'ragstore_replica_up{replica="replica1"} 1.0' in metrics
    assert 'ragstore_replica_state{replica="replica1",state="up"} 1.0' in metrics
    assert 'ragstore_replica_lag_seconds{replica="replica1"}' in metrics
