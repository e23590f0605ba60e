"""SIGTERM to a real `ragstore serve`: it stops taking connections, finishes the requests in flight, gives its running
job a grace period (RAGSTORE_SHUTDOWN_GRACE_SECONDS) to finish or queues it again without counting the attempt,
and exits with code 0. After a restart every file has completed exactly once.

No sleep decides anything. The test holds a SHARE lock on `chunks`, so the worker's transaction that writes a
file's chunks blocks: the job is certainly in flight. A search is held in flight the same way, by a row lock on
its vector store (which a search touches when the store was idle for a minute: the test makes it so). What is
waited for is seen in PostgreSQL or in the server's log.
"""

from __future__ import annotations

import io
import signal
import threading
from pathlib import Path

import httpx
import psycopg
from psycopg.rows import dict_row

from ragstore.ingest import parse
from ragstore.ingest.chunk import AUTO
from ragstore.models import DEFAULT_TENANT
from ragstore.service import files, ingestion, stores
from tests.support.chat_server import chat_server
from tests.support.documents import long_text
from tests.support.served import Served, wait_for

FILES = 4


def waiting_on_locks(conn: psycopg.Connection, pid: int) -> int:
    """Statements of the server process that wait for a lock."""
    return conn.execute(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
        (f"ragstore:{pid}",),
    ).fetchone()["n"]


def connections_of(conn: psycopg.Connection, pid: int) -> int:
    return conn.execute(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = %s", (f"ragstore:{pid}",)
    ).fetchone()["n"]


def make_batch(db, embedder) -> tuple[str, str, dict[str, bytes], list[str]]:
    """A store and a batch of FILES queued files, before any server runs: (store, batch, documents, file ids)."""
    documents = {f"part{i}.txt": long_text(seed=i, words=600) for i in range(FILES)}
    store = stores.create(db, DEFAULT_TENANT, embedder, "shutdown")
    file_ids = [files.upload(db, DEFAULT_TENANT, name, io.BytesIO(data)).id for name, data in documents.items()]
    batch = ingestion.create_batch(db, DEFAULT_TENANT, store, file_ids, AUTO)
    return store.id, batch, documents, file_ids


def jobs_by_id(db) -> dict[int, dict]:
    with db.connection() as conn:
        return {row["id"]: row for row in conn.execute("SELECT id, status, attempts FROM jobs ORDER BY id").fetchall()}


def check_every_file_once(db, chunker, batch: str, documents: dict[str, bytes], file_ids: list[str]) -> None:
    """The batch is complete, each file with exactly its chunks, written once."""
    counts = ingestion.batch_counts(db, DEFAULT_TENANT, batch)
    assert counts.completed == FILES and counts.failed == 0 and counts.in_progress == 0
    with db.connection() as conn:
        per_file = conn.execute(
            "SELECT file_id, count(*) AS n, count(DISTINCT chunk_index) AS distinct_n FROM chunks GROUP BY file_id"
        ).fetchall()
    name_of = dict(zip(file_ids, documents, strict=True))
    expected = {name: len(chunker.chunk(parse.parse(name, data), AUTO)) for name, data in documents.items()}
    assert {name_of[row["file_id"]]: row["n"] for row in per_file} == expected
    assert all(row["n"] == row["distinct_n"] for row in per_file)


def finish_batch(db, database_url: str, data_dir: Path, batch: str) -> None:
    """Restart the server, let it complete the batch, stop it again (cleanly)."""
    server = Served(database_url, data_dir, grace=60)
    try:
        wait_for(lambda: ingestion.batch_counts(db, DEFAULT_TENANT, batch).in_progress == 0, "the batch to finish")
        assert server.terminate() == 0
    finally:
        server.kill()


def test_in_flight_requests_and_the_running_job_finish_within_the_grace_period(
    db, database_url, embedder, chunker, tmp_path
):
    store_id, batch, documents, file_ids = make_batch(db, embedder)
    with (
        psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as watcher,
        psycopg.connect(database_url, row_factory=dict_row) as chunks_lock,
        psycopg.connect(database_url, row_factory=dict_row) as store_lock,
    ):
        chunks_lock.execute("LOCK TABLE chunks IN SHARE MODE")
        server = Served(database_url, tmp_path, grace=120)
        try:
            wait_for(lambda: waiting_on_locks(watcher, server.process.pid) == 1, "the worker to block in a file")
            watcher.execute(
                "UPDATE vector_stores SET last_active_at = now() - interval '1 hour' WHERE id = %s", (store_id,)
            )
            store_lock.execute("SELECT 1 FROM vector_stores WHERE id = %s FOR NO KEY UPDATE", (store_id,))
            searched: list[httpx.Response] = []
            search = threading.Thread(
                target=lambda: searched.append(
                    httpx.post(f"{server.url}/v1/vector_stores/{store_id}/search", json={"query": "x"}, timeout=180)
                )
            )
            search.start()
            wait_for(lambda: waiting_on_locks(watcher, server.process.pid) == 2, "the search to block")

            server.process.send_signal(signal.SIGTERM)
            wait_for(lambda: not server.accepts_connections(), "the server to stop taking connections")
            store_lock.rollback()  # the search in flight goes on, and is answered
            search.join(180)
            assert [response.status_code for response in searched] == [200]

            wait_for(lambda: server.logged("running job(s) to finish"), "the workers' grace period")
            chunks_lock.rollback()  # the running job can finish now, within its grace period
            assert server.process.wait(timeout=180) == 0
        finally:
            server.kill()

    jobs = jobs_by_id(db)
    done = [job for job in jobs.values() if job["status"] == "done"]
    assert len(done) == 1 and done[0]["attempts"] == 1  # finished, not requeued
    assert [(job["status"], job["attempts"]) for job in jobs.values() if job not in done] == [("queued", 0)] * 3
    assert not server.logged("queued again")
    # The search's access line, in JSON with its request id; uvicorn's own access log is off.
    access = [entry for entry in server.entries() if entry["logger"] == "ragstore.access"]
    assert [(entry["method"], entry["path"], entry["status"]) for entry in access if entry["method"] == "POST"] == [
        ("POST", f"/v1/vector_stores/{store_id}/search", 200)
    ]
    assert all(entry["request_id"].startswith("req_") and entry["duration_ms"] >= 0 for entry in access)
    assert not any(entry["logger"] == "uvicorn.access" for entry in server.entries())

    finish_batch(db, database_url, tmp_path, batch)
    check_every_file_once(db, chunker, batch, documents, file_ids)
    assert {job["attempts"] for job in jobs_by_id(db).values()} == {1}


def test_a_job_still_running_after_the_grace_period_is_queued_again_without_counting_the_attempt(
    db, database_url, embedder, chunker, tmp_path
):
    _, batch, documents, file_ids = make_batch(db, embedder)
    with (
        psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as watcher,
        psycopg.connect(database_url, row_factory=dict_row) as chunks_lock,
    ):
        chunks_lock.execute("LOCK TABLE chunks IN SHARE MODE")  # held until the server has exited
        server = Served(database_url, tmp_path, grace=1)
        try:
            wait_for(lambda: waiting_on_locks(watcher, server.process.pid) == 1, "the worker to block in a file")
            running = [job_id for job_id, job in jobs_by_id(db).items() if job["status"] == "running"]
            assert len(running) == 1
            assert server.terminate() == 0
        finally:
            server.kill()
        assert server.logged("still running at shutdown; queued again")
        assert {job_id: (job["status"], job["attempts"]) for job_id, job in jobs_by_id(db).items()} == {
            job_id: ("queued", 0) for job_id in jobs_by_id(db)
        }
        chunks_lock.rollback()
        # The interrupted write was the exited server's: PostgreSQL rolls it back once it finds the client gone.
        wait_for(lambda: connections_of(watcher, server.process.pid) == 0, "the exited server's connections to close")
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"] == 0

    finish_batch(db, database_url, tmp_path, batch)
    check_every_file_once(db, chunker, batch, documents, file_ids)
    assert {job["attempts"] for job in jobs_by_id(db).values()} == {1}


def test_an_answer_still_being_generated_at_shutdown_is_finished_and_stored(db, database_url, embedder, tmp_path):
    """A client asks for a streamed answer and goes away after its first piece; the model is still writing the rest
    when the server is told to stop. The server waits for the answer (within its grace period), stores it whole and
    exits 0. Before, the shutdown closed the database under it: the exchange was lost. The model's stand-in holds
    its stream after the first piece until the test lets it go, once the server says it is waiting."""
    store = stores.create(db, DEFAULT_TENANT, embedder, "answers at shutdown")
    with chat_server() as chat:
        chat.hold = threading.Event()
        server = Served(database_url, tmp_path, grace=120, llm_base_url=chat.url)
        try:
            body = {"question": "Who cleans the espresso maker?", "vector_store_ids": [store.id], "stream": True}
            with httpx.stream("POST", f"{server.url}/v1/answers", json=body, timeout=60) as response:
                first = next(line for line in response.iter_lines() if line.startswith("event: answer.delta"))
            assert first  # the client is gone now, mid-answer
            wait_for(lambda: any(e.get("path") == "/v1/answers" for e in server.entries()), "the request to end")

            server.process.send_signal(signal.SIGTERM)
            waiting = "answer(s) being generated to finish"
            wait_for(lambda: server.logged(waiting) or server.process.poll() is not None, "the server to wait")
            chat.hold.set()  # the rest of the answer comes
            assert server.process.wait(timeout=180) == 0
        finally:
            chat.hold.set()
            server.kill()
    with db.connection() as conn:
        rows = conn.execute("SELECT role, content FROM messages ORDER BY position").fetchall()
    assert [(row["role"], row["content"]) for row in rows] == [
        ("user", "Who cleans the espresso maker?"),
        ("assistant", "The knowledge base does not say."),
    ]
