"""`ragstore serve` SIGKILLed in the middle of a batch made through the openai SDK, then started again: every file
completes exactly once, no chunk is duplicated or orphaned, and file_counts are exact.

No sleep decides the outcome. Once some files have completed, the test holds a SHARE lock on `chunks`, so the
in-process worker's transaction that writes the next file's chunks blocks; once PostgreSQL shows the server waiting
on that lock, the server is certainly mid-file, and is killed there.
"""

from __future__ import annotations

import io
import signal

import psycopg
from openai import OpenAI
from psycopg.rows import dict_row

from tests.integration.test_shutdown import connections_of, waiting_on_locks
from tests.support.documents import long_text
from tests.support.exactly_once import check_chunks, check_counts
from tests.support.served import Served, wait_for

FILES = 8
API_KEY = "sk-fault-test"


def sdk(server: Served) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0)


def test_a_killed_server_loses_nothing_and_duplicates_nothing(db, database_url, chunker, tmp_path):
    documents = {f"part{i}.txt": long_text(seed=i, words=1200) for i in range(FILES)}
    first = Served(database_url, tmp_path, grace=30, api_key=API_KEY)
    try:
        client = sdk(first)
        store = client.vector_stores.create(name="killed")
        uploaded = {
            client.files.create(file=(name, io.BytesIO(data)), purpose="assistants").id: (name, data)
            for name, data in documents.items()
        }
        batch = client.vector_stores.file_batches.create(store.id, file_ids=list(uploaded))

        def completed() -> int:
            return client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id).file_counts.completed

        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as watcher:
            wait_for(lambda: completed() >= 2, "two files to complete")
            with watcher.transaction():
                watcher.execute("LOCK TABLE chunks IN SHARE MODE")
                wait_for(lambda: waiting_on_locks(watcher, first.process.pid) == 1, "the worker to block in a file")
                first.process.send_signal(signal.SIGKILL)
                assert first.process.wait() == -signal.SIGKILL
                interrupted = watcher.execute("SELECT id, args FROM jobs WHERE status = 'running'").fetchall()
            assert len(interrupted) == 1
            # The killed server's blocked transaction is rolled back, never committed, once PostgreSQL sees it gone.
            wait_for(
                lambda: connections_of(watcher, first.process.pid) == 0, "the killed server's connections to close"
            )
            statuses = watcher.execute(
                "SELECT status, count(*) AS n FROM vector_store_files WHERE batch_id = %s GROUP BY status", (batch.id,)
            ).fetchall()
            half_written = watcher.execute(
                "SELECT count(*) AS n FROM chunks WHERE file_id = %s", (interrupted[0]["args"]["file_id"],)
            ).fetchone()["n"]
        done = {row["status"]: row["n"] for row in statuses}
        assert 2 <= done["completed"] < FILES and done["in_progress"] == FILES - done["completed"]
        assert half_written == 0
    finally:
        first.kill()

    second = Served(database_url, tmp_path, grace=30, api_key=API_KEY)
    try:
        client = sdk(second)
        wait_for(
            lambda: (
                client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id).status != "in_progress"
            ),
            "the batch to finish after the restart",
        )
        check_counts(client, store.id, batch.id, list(uploaded))
        hits = client.vector_stores.search(store.id, query="travel budget for the project meeting", max_num_results=5)
        assert hits.data and {hit.file_id for hit in hits.data} <= set(uploaded)
        assert second.terminate() == 0
    finally:
        second.kill()

    check_chunks(db, chunker, store.id, uploaded)
    with db.connection() as conn:
        jobs = {row["id"]: (row["status"], row["attempts"]) for row in conn.execute("SELECT * FROM jobs").fetchall()}
    assert jobs.pop(interrupted[0]["id"]) == ("done", 2)  # the interrupted attempt, then the one that finished it
    assert set(jobs.values()) == {("done", 1)}
