"""Scale-out: `ragstore serve` with RAGSTORE_WORKERS=0 (the API alone) and two `ragstore worker` processes against
one database. A batch made through the openai SDK is spread over both workers, and no file is processed twice.

No sleep decides the outcome. The test holds a SHARE lock on `chunks` before the workers start, so each worker
claims a job, parses, chunks and embeds its file, then blocks writing the chunks. Once PostgreSQL shows both worker
processes waiting on that lock, each is certainly in the middle of a different file (jobs are claimed with FOR UPDATE
SKIP LOCKED): the work is on both. The lock is then released and the two share the rest as they come.
"""

from __future__ import annotations

import io

import psycopg
from openai import OpenAI
from psycopg.rows import dict_row

from ragstore.ingest import parse
from ragstore.ingest.chunk import AUTO
from tests.integration.test_shutdown import waiting_on_locks
from tests.support.documents import long_text
from tests.support.exactly_once import check_chunks, check_counts
from tests.support.served import Served, wait_for
from tests.support.workers import WorkerProcess

FILES = 8
API_KEY = "sk-scale-out"


def test_two_worker_processes_share_a_batch_and_process_each_file_once(db, database_url, chunker, tmp_path):
    documents = {f"part{i}.txt": long_text(seed=i, words=800) for i in range(FILES)}
    server = Served(database_url, tmp_path / "server", grace=30, api_key=API_KEY, workers=0)
    workers: list[WorkerProcess] = []
    try:
        client = OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0)
        uploaded = {
            client.files.create(file=(name, io.BytesIO(data)), purpose="assistants").id: (name, data)
            for name, data in documents.items()
        }
        store = client.vector_stores.create(name="scale-out")
        batch = client.vector_stores.file_batches.create(store.id, file_ids=list(uploaded))
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as watcher:
            with watcher.transaction():
                watcher.execute("LOCK TABLE chunks IN SHARE MODE")
                workers = [WorkerProcess(database_url, tmp_path / f"worker{i}") for i in range(2)]
                wait_for(
                    lambda: [waiting_on_locks(watcher, worker.pid) for worker in workers] == [1, 1],
                    "both workers to block in a file",
                )
                running = watcher.execute("SELECT worker, args FROM jobs WHERE status = 'running'").fetchall()
            assert sorted(job["worker"] for job in running) == sorted(worker.name for worker in workers)
            assert len({job["args"]["file_id"] for job in running}) == 2
            assert client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id).status == (
                "in_progress"
            )

        wait_for(
            lambda: (
                client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id).status != "in_progress"
            ),
            "the batch to finish",
            timeout=600,
        )
        check_counts(client, store.id, batch.id, list(uploaded))
        for file_id, (name, data) in uploaded.items():
            content = client.vector_stores.files.content(file_id=file_id, vector_store_id=store.id)
            texts = [item.text for item in content]
            assert texts == [c.text for c in chunker.chunk(parse.parse(name, data), AUTO)], name

        with db.connection() as conn:
            jobs = conn.execute("SELECT args, status, attempts, worker FROM jobs").fetchall()
        assert sorted(job["args"]["file_id"] for job in jobs) == sorted(uploaded)  # one job per file
        assert {(job["status"], job["attempts"]) for job in jobs} == {("done", 1)}  # each claimed once
        assert {job["worker"] for job in jobs} == {worker.name for worker in workers}
        print("files per worker:", {w.name: sum(job["worker"] == w.name for job in jobs) for w in workers})
        assert [worker.terminate() for worker in workers] == [0, 0]
        assert server.terminate() == 0
    finally:
        for worker in workers:
            worker.kill()
        server.kill()

    check_chunks(db, chunker, store.id, uploaded)
