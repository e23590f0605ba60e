"""A worker SIGKILLed in the middle of a batch: after a restart every file completes exactly once.

No sleeps decide the outcome. The test holds a SHARE lock on `chunks`, so the worker's transaction that writes
a file's chunks blocks; once PostgreSQL shows that transaction waiting, the worker is certainly mid-file, and
is killed there.
"""

from __future__ import annotations

import io
import os
import signal

import psycopg
from psycopg.rows import dict_row

from ragstore.ingest import parse
from ragstore.ingest.chunk import AUTO
from ragstore.models import DEFAULT_TENANT
from ragstore.service import files, ingestion, stores
from tests.support.documents import long_text
from tests.support.processes import ragstore_env, spawn
from tests.support.served import wait_for

FILES = 8


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(db, database_url, embedder, chunker, tmp_path):
    documents = {f"part{i}.txt": long_text(seed=i, words=1200) for i in range(FILES)}
    store = stores.create(db, DEFAULT_TENANT, embedder, "crash")
    file_ids = [files.upload(db, DEFAULT_TENANT, name, io.BytesIO(data)).id for name, data in documents.items()]
    batch = ingestion.create_batch(db, DEFAULT_TENANT, store, file_ids, AUTO)
    env = ragstore_env(database_url=database_url, data_dir=tmp_path)

    def counts():
        return ingestion.batch_counts(db, DEFAULT_TENANT, batch)

    first = spawn("worker", env=env)
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as watcher:
        wait_for(lambda: counts().completed >= 2, "two files to complete")
        with watcher.transaction():
            watcher.execute("LOCK TABLE chunks IN SHARE MODE")
            wait_for(
                lambda: (
                    watcher.execute(
                        "SELECT count(*) AS n FROM pg_locks WHERE relation = 'chunks'::regclass AND NOT granted"
                    ).fetchone()["n"]
                    == 1
                ),
                "the worker to block while writing a file",
            )
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            interrupted = watcher.execute("SELECT id, args FROM jobs WHERE status = 'running'").fetchall()
        assert len(interrupted) == 1
        # The killed worker's blocked transaction is rolled back, never committed: wait until it is gone.
        wait_for(
            lambda: (
                watcher.execute(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = %s",
                    (f"ragstore:{first.pid}",),
                ).fetchone()["n"]
                == 0
            ),
            "the killed worker's connections to close",
        )
        partial = counts()
        assert 2 <= partial.completed < FILES and partial.in_progress == FILES - partial.completed
        half_written = watcher.execute(
            "SELECT count(*) AS n FROM chunks WHERE file_id = %s", (interrupted[0]["args"]["file_id"],)
        ).fetchone()["n"]
        assert half_written == 0

    second = spawn("worker", env=env)
    try:
        wait_for(lambda: counts().in_progress == 0, "the batch to finish")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    assert second.returncode == 0

    assert counts().completed == FILES and counts().failed == 0
    with db.connection() as conn:
        per_file = conn.execute(
            "SELECT file_id, count(*) AS n, count(DISTINCT chunk_index) AS distinct_n, max(chunk_index) AS top "
            "FROM chunks GROUP BY file_id"
        ).fetchall()
        job_rows = conn.execute("SELECT id, status, attempts FROM jobs ORDER BY id").fetchall()
    name_of = {file_id: name for file_id, name in zip(file_ids, documents, strict=True)}
    expected = {name: len(chunker.chunk(parse.parse(name, data), AUTO)) for name, data in documents.items()}
    assert {name_of[r["file_id"]]: r["n"] for r in per_file} == expected
    assert all(r["n"] == r["distinct_n"] == r["top"] + 1 for r in per_file)
    assert [r["status"] for r in job_rows] == ["done"] * FILES
    attempts = {r["id"]: r["attempts"] for r in job_rows}
    assert attempts.pop(interrupted[0]["id"]) == 2
    assert set(attempts.values()) == {1}
