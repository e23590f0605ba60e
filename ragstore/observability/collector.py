"""What a scrape of /metrics returns: this process's metrics and the job queue, read from the database then."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from ragstore.errors import RagstoreError
from ragstore.store import jobs
from ragstore.store.db import Database
from ragstore.store.replicas import STATES

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
STATUSES = ("queued", "running", "done", "failed")


class JobsCollector:
    """Jobs by kind and status, the queue of due jobs and its oldest wait, counted when scraped.

    The counts are the database's, so they cover every worker of it, in this process or another.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("ragstore_database_up", "1 if the database answered this scrape's queries, else 0.")
        try:
            with self.db.connection() as conn:
                rows = jobs.metrics_jobs(conn)
        except RagstoreError as exc:  # a scrape must still answer, saying the database is down
            log.warning("metrics: the job counts could not be read: %s", exc.message)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        by_status = GaugeMetricFamily("ragstore_jobs", "Jobs by kind and status.", labels=["kind", "status"])
        counts = {(row["kind"], row["status"]): row["jobs"] for row in rows}
        for kind in sorted({row["kind"] for row in rows}):
            for status in STATUSES:
                by_status.add_metric([kind, status], counts.get((kind, status), 0))
        depth = GaugeMetricFamily(
            "ragstore_job_queue_depth", "Queued jobs that are due (ready to be claimed), of every kind."
        )
        depth.add_metric([], sum(row["due"] for row in rows))
        oldest = GaugeMetricFamily(
            "ragstore_job_queue_oldest_seconds", "How long the oldest due job has waited; 0 when none is due."
        )
        oldest.add_metric([], max((row["oldest_due_seconds"] for row in rows), default=0.0))
        yield from (by_status, depth, oldest)


class ReplicasCollector:
    """Each read replica's state and lag, as this process's monitor last found them (nothing without replicas)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        if self.db.replicas is None:
            return
        labels = ["replica"]
        up = GaugeMetricFamily(
            "ragstore_replica_up", "1 if the replica is in rotation (serves reads), else 0.", labels=labels
        )
        state = GaugeMetricFamily(
            "ragstore_replica_state",
            "1 for the replica's state: up, lagging, promoted or down.",
            labels=["replica", "state"],
        )
        lag = GaugeMetricFamily(
            "ragstore_replica_lag_seconds",
            "How long ago the primary was past what the replica has replayed (0: caught up); absent when unknown.",
            labels=labels,
        )
        lag_bytes = GaugeMetricFamily(
            "ragstore_replica_lag_bytes",
            "WAL the replica has yet to replay, in bytes; absent when unknown.",
            labels=labels,
        )
        for status in self.db.replicas.statuses():
            up.add_metric([status.name], 1 if status.state == "up" else 0)
            for name in STATES:
                state.add_metric([status.name, name], 1 if status.state == name else 0)
            if status.lag_seconds is not None:
                lag.add_metric([status.name], status.lag_seconds)
            if status.lag_bytes is not None:
                lag_bytes.add_metric([status.name], status.lag_bytes)
        yield from (up, state, lag, lag_bytes)


class _Scrape:
    """The process's registry, the job collector and the replicas', as one exposition."""

    def __init__(self, db: Database) -> None:
        self.jobs = JobsCollector(db)
        self.replicas = ReplicasCollector(db)

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self.jobs.collect()
        yield from self.replicas.collect()


def exposition(db: Database) -> bytes:
    """The Prometheus text exposition of this process and its database's job queue."""
    return generate_latest(_Scrape(db))
