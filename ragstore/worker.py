"""Workers: claim durable jobs from PostgreSQL and run them, in the server's threads or in `ragstore worker`.

Each worker has a connection of its own that LISTENs for new jobs and holds the advisory lock of the job it runs.
When a worker dies its connection closes and the lock is freed; any worker then finds the job `running` with a
free lock and queues it again (or fails it once its attempts are spent).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from ragstore.errors import DatabaseUnavailable, RagstoreError
from ragstore.ingest import priority
from ragstore.ingest.chunk import Chunker
from ragstore.ingest.embed import Embedder
from ragstore.models import Job
from ragstore.service import files, ingestion
from ragstore.store import jobs
from ragstore.store.db import Database

log = logging.getLogger(__name__)

# The longest a worker waits between attempts to reach a database that is down.
MAX_RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class Task:
    """What a job kind does, and what happens when its attempts are spent."""

    run: Callable[[Job], None]
    give_up: Callable[[Job, str], None]


def housekeeping(db: Database) -> Callable[[], object]:
    """What workers do now and then when idle: delete the files whose expires_after has run out."""
    return lambda: files.delete_expired(db)


def ingestion_tasks(db: Database, embedder: Embedder, chunker: Chunker) -> dict[str, Task]:
    return {
        ingestion.INGEST_FILE: Task(
            run=lambda job: ingestion.run_ingest_job(db, embedder, chunker, job),
            give_up=lambda job, error: ingestion.give_up_ingest_job(db, job, error),
        )
    }


class Worker:
    """One job at a time, until stopped."""

    def __init__(
        self,
        db: Database,
        tasks: dict[str, Task],
        *,
        name: str | None = None,
        poll_seconds: float = 1.0,
        backoff_seconds: float = 2.0,
        housekeeping: Callable[[], object] | None = None,
        housekeeping_seconds: float = 60.0,
    ) -> None:
        self.db = db
        self.tasks = tasks
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.poll_seconds = poll_seconds
        self.backoff_seconds = backoff_seconds
        self.housekeeping = housekeeping
        self.housekeeping_seconds = housekeeping_seconds
        self._last_housekeeping = float("-inf")
        self.stop_event = threading.Event()
        self.current: Job | None = None  # the job being run, for a shutdown that cannot wait for it
        self._retry_delay = backoff_seconds  # until the next attempt to connect, doubling while they fail

    def run(self) -> None:
        """Serve jobs until stop(); survive database outages, and anything unforeseen, by reconnecting (backing off)."""
        while not self.stop_event.is_set():
            try:
                self._serve()
            except DatabaseUnavailable as exc:
                log.warning("worker %s: %s; retrying in %.0f s", self.name, exc.message, self._retry_delay)
            except Exception:  # the thread must outlive any one failure, or ingestion stops unseen
                log.exception("worker %s failed; retrying in %.0f s", self.name, self._retry_delay)
            self.stop_event.wait(self._retry_delay)
            self._retry_delay = min(2 * self._retry_delay, MAX_RETRY_SECONDS)

    def stop(self) -> None:
        self.stop_event.set()

    def requeue_current(self) -> None:
        """Queue the job being run again, its attempt not counted (a shutdown that could not wait for it).

        Its thread may still finish it before the process exits: writing a file checks it is still in progress,
        so the job's next run then finds it done and changes nothing.
        """
        job = self.current
        if job is None:
            return
        try:
            with self.db.connection() as conn:
                requeued = jobs.requeue_job(conn, job.id, self.name)
        except RagstoreError as exc:  # then the next worker finds it orphaned, and retries it as a failed attempt
            log.warning("job %s could not be queued again at shutdown: %s", job.id, exc.message)
            return
        if requeued:
            log.warning("job %s (%s) was still running at shutdown; queued again", job.id, job.kind)

    def drain(self) -> int:
        """Run due jobs until none is left; return how many ran."""
        ran = 0
        with self.db.dedicated() as conn:
            self._recover(conn)
            while self._run_next(conn):
                ran += 1
        return ran

    def _serve(self) -> None:
        with self.db.dedicated() as conn:
            if self._retry_delay > self.backoff_seconds:
                log.info("worker %s: connected to the database again", self.name)
            self._retry_delay = self.backoff_seconds
            conn.execute(f"LISTEN {jobs.CHANNEL}")
            self._recover(conn)
            while not self.stop_event.is_set():
                if not self._run_next(conn):
                    self._recover(conn)
                    self._housekeep()
                    for _ in conn.notifies(timeout=self.poll_seconds, stop_after=1):
                        pass

    def _housekeep(self) -> None:
        """Periodic chores (expired files), when idle and at most every housekeeping_seconds."""
        if self.housekeeping is None or time.monotonic() - self._last_housekeeping < self.housekeeping_seconds:
            return
        self._last_housekeeping = time.monotonic()
        try:
            self.housekeeping()
        except RagstoreError as exc:
            log.warning("housekeeping failed: %s", exc.message)

    def _run_next(self, conn) -> bool:
        job = jobs.claim_job(conn, self.name)
        if job is None:
            return False
        self.current = job
        try:
            self._run(conn, job)
        finally:
            self.current = None
            jobs.release_job(conn, job.id)
        return True

    def _run(self, conn, job: Job) -> None:
        task = self.tasks.get(job.kind)
        try:
            if task is None:
                raise RagstoreError(f"No task for job kind {job.kind!r}.")
            task.run(job)
        except Exception as exc:  # a job's failure must never stop the worker
            error = exc.message if isinstance(exc, RagstoreError) else f"{type(exc).__name__}: {exc}"
            where = "" if isinstance(exc, DatabaseUnavailable) else "\n" + traceback.format_exc()  # an outage: no bug
            log.warning("job %s (%s) attempt %s failed: %s%s", job.id, job.kind, job.attempts, error, where)
            self._retry_or_fail(conn, job.id, error)
        else:
            jobs.finish_job(conn, job.id)

    def _recover(self, conn) -> None:
        for job_id in jobs.recover_orphans(conn):
            log.warning("job %s was left running by a dead worker; retrying it", job_id)
            try:
                self._retry_or_fail(conn, job_id, "its worker stopped while running it")
            finally:
                jobs.release_job(conn, job_id)

    def _retry_or_fail(self, conn, job_id: int, error: str) -> None:
        failed = jobs.retry_or_fail_job(conn, job_id, error, self.backoff_seconds)
        if failed is not None and failed.kind in self.tasks:
            self.tasks[failed.kind].give_up(failed, error)


class WorkerThreads:
    """Workers running in threads of this process (the server's in-process workers)."""

    def __init__(self, workers: list[Worker], *, niceness: int = 0) -> None:
        """niceness: how much lower than the process's other threads the workers run (ingest/priority.py)."""
        self.workers = workers
        self.niceness = niceness
        self.threads = [
            threading.Thread(target=self._run, args=(w,), name=f"ragstore-worker-{i}", daemon=True)
            for i, w in enumerate(workers)
        ]

    def _run(self, worker: Worker) -> None:
        priority.lower_this_thread(self.niceness)
        worker.run()

    def start(self) -> WorkerThreads:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self, grace: float | None = None) -> None:
        """Ask every worker to stop after its current job and wait up to grace seconds (None: as long as it takes);
        a job still running then is queued again for the next worker, its attempt not counted."""
        for worker in self.workers:
            worker.stop()
        running = sum(worker.current is not None for worker in self.workers)
        if running:
            log.info("waiting up to %s s for %d running job(s) to finish", grace, running)
        deadline = None if grace is None else time.monotonic() + grace
        for thread in self.threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        for worker, thread in zip(self.workers, self.threads, strict=True):
            if thread.is_alive():
                worker.requeue_current()
