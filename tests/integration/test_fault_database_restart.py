"""PostgreSQL stopped and started again under a real `ragstore serve`, under load: the service recovers by itself.

While PostgreSQL is down every request is answered at once with a 503 in the error envelope, with Retry-After (never
a 500, a hang or a traceback) and /readyz says not ready; SDK calls in flight or made during the outage succeed once
PostgreSQL is back, through the SDK's own retries, without restarting ragstore; the in-process worker outlives the
outage and finishes the batch it was in the middle of, each file exactly once.

No sleep decides anything. The test runs a PostgreSQL of its own, so it can stop it. Before stopping it, it blocks
the worker in the batch's second file (a SHARE lock on `chunks`, taken once the first has completed) and a search in
flight (a row lock on its store, which a search touches when the store was idle for a minute: the test makes it
so), both seen waiting in pg_stat_activity. PostgreSQL is started again only once the server's JSON access log shows
a 503 for each SDK call (found by the x-request-id they send) and for the load.
"""

from __future__ import annotations

import io
import threading
from contextlib import closing

import httpx
import psycopg
from openai import OpenAI
from psycopg.rows import dict_row

from ragstore.store.db import Database
from tests.integration.test_shutdown import waiting_on_locks
from tests.support.documents import long_text
from tests.support.exactly_once import check_chunks, check_counts
from tests.support.own_postgres import Postgres, own_postgres
from tests.support.served import Served, wait_for

API_KEY = "sk-fault-test"
FILES = 4
# Not a hang: during the outage an answer takes milliseconds; waiting for the pool instead would take its 30 s.
PROMPT = 15
# Retry-After is 2 s: ten retries give PostgreSQL 20 s to come back once the test starts it (it takes about one).
RETRIES = 10


class Load:
    """Two threads without pause, keeping every answer (status, body, Retry-After): one searches a store, the other
    reads it and the files. Only the first writes (a search touches its store), so the load never waits on itself."""

    def __init__(self, url: str, store_id: str) -> None:
        self.answers: list[tuple[int, dict, str | None]] = []
        self.stopped = threading.Event()
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
        searches = [("POST", f"/v1/vector_stores/{store_id}/search", {"query": "meeting"})]
        reads = [("GET", f"/v1/vector_stores/{store_id}", None), ("GET", "/v1/files", None)]
        self.threads = [
            threading.Thread(target=self._run, args=(requests,), daemon=True) for requests in (searches, reads)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self, requests: list) -> None:
        while not self.stopped.is_set():
            for method, path, body in requests:
                response = self.client.request(method, path, json=body)
                self.answers.append((response.status_code, response.json(), response.headers.get("retry-after")))
            self.stopped.wait(0.02)  # pacing only: two cores are shared

    def saw(self, status: int, since: int = 0) -> bool:
        return any(answer[0] == status for answer in self.answers[since:])

    def stop(self) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(120)
        self.client.close()


def attempts(server: Served, request_id: str) -> list[int]:
    """The statuses the server answered to the requests carrying this x-request-id, in order."""
    return [
        entry["status"]
        for entry in server.entries()
        if entry["logger"] == "ragstore.access" and entry.get("request_id") == request_id
    ]


def in_background(call) -> tuple[threading.Thread, list]:
    """Run call() in a thread; its result (or exception) lands in the returned list."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # reported by the test's assertion on the outcome
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def completed(client: OpenAI, store_id: str, batch_id: str) -> int:
    return client.vector_stores.file_batches.retrieve(batch_id, vector_store_id=store_id).file_counts.completed


def check_unavailable(response: httpx.Response) -> None:
    """The 503 of a database outage: the envelope, a message that says so, Retry-After."""
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == "2"
    error = response.json()["error"]
    assert set(response.json()) == {"error"} and set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["code"]) == ("server_error", "database_unavailable")
    assert error["message"].startswith("The database is unavailable")


def test_postgresql_restarted_under_load(chunker, tmp_path):
    with own_postgres() as postgres:
        restart_under_load(postgres, chunker, tmp_path)


def restart_under_load(postgres: Postgres, chunker, tmp_path) -> None:
    server = Served(postgres.url, tmp_path / "data", grace=30, api_key=API_KEY)
    load: Load | None = None
    try:
        client = OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0, timeout=120)
        retrying = client.with_options(max_retries=RETRIES)
        handbook = client.vector_stores.create(name="handbook")
        first = client.files.create(
            file=("meetings.txt", io.BytesIO(long_text(seed=99, words=300))), purpose="assistants"
        )
        assert (
            client.vector_stores.files.create_and_poll(file_id=first.id, vector_store_id=handbook.id).status
            == "completed"
        )

        documents = {f"part{i}.txt": long_text(seed=i, words=1200) for i in range(FILES)}
        across = client.vector_stores.create(name="across the outage")
        uploaded = {
            client.files.create(file=(name, io.BytesIO(data)), purpose="assistants").id: (name, data)
            for name, data in documents.items()
        }
        load = Load(server.url, handbook.id)
        # closing(), not the connections' own `with`: that would commit on a connection PostgreSQL has ended.
        with (
            closing(psycopg.connect(postgres.url, autocommit=True, row_factory=dict_row)) as watcher,
            closing(psycopg.connect(postgres.url)) as locks,
        ):
            batch = client.vector_stores.file_batches.create(across.id, file_ids=list(uploaded))
            wait_for(lambda: completed(client, across.id, batch.id) >= 1, "a first file to complete")
            locks.execute("LOCK TABLE chunks IN SHARE MODE")
            wait_for(lambda: waiting_on_locks(watcher, server.process.pid) == 1, "the worker to block in a file")
            watcher.execute(
                "UPDATE vector_stores SET last_active_at = now() - interval '1 hour' WHERE id = %s", (across.id,)
            )
            locks.execute("SELECT 1 FROM vector_stores WHERE id = %s FOR NO KEY UPDATE", (across.id,))
            search, searched = in_background(
                lambda: retrying.vector_stores.search(
                    across.id, query="budget", extra_headers={"x-request-id": "req_search_in_flight"}
                )
            )
            wait_for(lambda: waiting_on_locks(watcher, server.process.pid) == 2, "the search to block")
            wait_for(lambda: load.saw(200), "the load to be served")

            postgres.stop()  # fast shutdown: PostgreSQL ends every session, these two included

        wait_for(lambda: attempts(server, "req_search_in_flight")[:1] == [503], "the search in flight to get its 503")
        during = len(load.answers)
        wait_for(lambda: load.saw(503, since=during), "the load to get 503s")
        readiness = httpx.get(f"{server.url}/readyz", timeout=PROMPT)
        assert readiness.status_code == 503 and readiness.json()["error"]["code"] == "not_ready"
        assert readiness.json()["checks"]["database"]["ok"] is False
        for response in (
            httpx.post(
                f"{server.url}/v1/vector_stores/{handbook.id}/search",
                json={"query": "meeting"},
                headers={"Authorization": f"Bearer {API_KEY}"},
                timeout=PROMPT,
            ),
            httpx.get(f"{server.url}/healthz", timeout=PROMPT),
        ):
            check_unavailable(response)
        upload, uploaded_late = in_background(
            lambda: retrying.files.create(
                file=("lighthouse.txt", io.BytesIO(b"The lighthouse keeper feeds the grey cat at dawn.")),
                purpose="assistants",
                extra_headers={"x-request-id": "req_upload_in_outage"},
            )
        )
        wait_for(lambda: attempts(server, "req_upload_in_outage")[:1] == [503], "the upload to get its 503")

        postgres.start()
        after = len(load.answers)
        for thread in (search, upload):
            thread.join(180)
        assert not isinstance(searched[0], Exception), searched[0]
        assert searched[0].object == "vector_store.search_results.page"
        late = uploaded_late[0]
        assert not isinstance(late, Exception), late
        for request_id in ("req_search_in_flight", "req_upload_in_outage"):
            # The client may have its answer before the server's log line is read here.
            wait_for(lambda request_id=request_id: 200 in attempts(server, request_id), "the access log line")
            statuses = attempts(server, request_id)
            assert statuses[-1] == 200 and set(statuses[:-1]) == {503}, statuses  # retried past the outage
        wait_for(lambda: load.saw(200, since=after), "the load to be served again")
        assert httpx.get(f"{server.url}/readyz", timeout=60).status_code == 200

        # Uploads and searches work again, and the worker, which outlived the outage, finishes the batch.
        assert (
            client.vector_stores.files.create_and_poll(file_id=late.id, vector_store_id=handbook.id).status
            == "completed"
        )
        hits = client.vector_stores.search(handbook.id, query="who feeds the cat?", max_num_results=1)
        assert [hit.file_id for hit in hits.data] == [late.id]
        wait_for(
            lambda: (
                client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=across.id).status != "in_progress"
            ),
            "the batch to finish",
        )
        check_counts(client, across.id, batch.id, list(uploaded))
        load.stop()
        wait_for(lambda: server.logged("connected to the database again"), "the worker to say it is back")
        assert server.process.poll() is None and server.terminate() == 0
    finally:
        if load is not None:
            load.stop()
        server.kill()

    assert {status for status, _, _ in load.answers} == {200, 503}
    for status, body, retry_after in load.answers:
        if status == 503:
            assert (body["error"]["code"], retry_after) == ("database_unavailable", "2")
    access = [entry for entry in server.entries() if entry["logger"] == "ragstore.access"]
    assert {entry["status"] for entry in access} <= {200, 503}  # never a 500
    assert all(line.startswith("{") for line in server.lines[1:])  # every log line JSON: no bare traceback

    db = Database(postgres.url, pool_size=2)
    db.pool.open(wait=True)
    try:
        check_chunks(db, chunker, across.id, uploaded)
        with db.connection() as conn:
            jobs = conn.execute("SELECT status, attempts FROM jobs WHERE args->>'vector_store_id' = %s", (across.id,))
            # The attempt PostgreSQL's shutdown ended counts; the next one finished the file.
            assert sorted((row["status"], row["attempts"]) for row in jobs) == [("done", 1)] * (FILES - 1) + [
                ("done", 2)
            ]
    finally:
        db.close()
