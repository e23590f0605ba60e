"""The durable job queue: enqueue, claim under a session advisory lock, finish, retry, recover orphans."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from ragstore.models import Job
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one

CHANNEL = "ragstore_jobs"


def enqueue_job(conn: Connection, tenant_id: str, kind: str, args: dict[str, Any], max_attempts: int) -> int:
    """Queue a job (in the caller's transaction) and wake the workers when it commits."""
    row = one(
        conn.execute(
            QUERIES["enqueue_job"],
            {"tenant_id": tenant_id, "kind": kind, "args": Jsonb(args), "max_attempts": max_attempts},
        )
    )
    conn.execute(QUERIES["notify_jobs"])
    return row["id"]


def claim_job(conn: Connection, worker: str) -> Job | None:
    """Claim the next due job on the worker's own connection and hold its lock until `release_job`."""
    with conn.transaction():
        row = conn.execute(QUERIES["claim_job"], {"worker": worker}).fetchone()
        if row is None:
            return None
        # Taken before the claim commits: whoever sees the job running also sees its lock held.
        conn.execute(QUERIES["lock_job"], {"id": row["id"]})
    return Job(**row)


def release_job(conn: Connection, job_id: int) -> None:
    conn.execute(QUERIES["unlock_job"], {"id": job_id})


def finish_job(conn: Connection, job_id: int) -> None:
    conn.execute(QUERIES["finish_job"], {"id": job_id})


def retry_or_fail_job(conn: Connection, job_id: int, error: str, backoff_seconds: float) -> Job | None:
    """Record a failed attempt; return the job if it has now failed for good."""
    row = conn.execute(
        QUERIES["retry_or_fail_job"], {"id": job_id, "error": error, "backoff_seconds": backoff_seconds}
    ).fetchone()
    if row is None or row.pop("status") != "failed":
        return None
    return Job(**row)


def recover_orphans(conn: Connection) -> list[int]:
    """Running jobs whose worker died (their lock is free): locked here, for the caller to retry or fail.

    Call it on a connection that holds no job lock: session locks are re-entrant, so the caller's own would
    look free.
    """
    orphans = []
    for row in conn.execute(QUERIES["running_jobs"]).fetchall():
        if one(conn.execute(QUERIES["try_lock_job"], {"id": row["id"]}))["locked"]:
            orphans.append(row["id"])
    return orphans


def job_counts(conn: Connection) -> dict[str, int]:
    return {row["status"]: row["n"] for row in conn.execute(QUERIES["job_counts"]).fetchall()}


def metrics_jobs(conn: Connection) -> list[dict[str, Any]]:
    """Jobs by kind and status, with the due ones and the oldest due one's wait, for /metrics."""
    return conn.execute(QUERIES["metrics_jobs"]).fetchall()


def requeue_job(conn: Connection, job_id: int, worker: str) -> bool:
    """Queue a job that this worker is running again, without counting the attempt; False if it was not running."""
    return conn.execute(QUERIES["requeue_job"], {"id": job_id, "worker": worker}).fetchone() is not None
