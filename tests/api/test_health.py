"""The HTTP server's lifecycle: it opens the database, runs in-process workers, and reports health."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient

from ragstore.api.app import create_app
from ragstore.ingest.chunk import AUTO
from ragstore.models import DEFAULT_TENANT
from ragstore.service import files, ingestion, stores


def test_health_and_in_process_workers(settings):
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
        runtime = client.app.state.runtime
        store = stores.create(runtime.db, DEFAULT_TENANT, runtime.embedder, "h")
        record = files.upload(runtime.db, DEFAULT_TENANT, "a.txt", io.BytesIO(b"Badges are collected at reception."))
        batch = ingestion.create_batch(runtime.db, DEFAULT_TENANT, store, [record.id], AUTO)
        deadline_counts = _wait_done(runtime.db, batch)
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["pgvector"].startswith("0.8")
    assert deadline_counts.completed == 1


def test_unknown_routes_use_the_error_envelope(settings):
    with TestClient(create_app(settings)) as client:
        response = client.get("/v1/nothing-here")
    assert response.status_code == 404


def _wait_done(db, batch):
    import time

    for _ in range(1200):
        counts = ingestion.batch_counts(db, DEFAULT_TENANT, batch)
        if counts.in_progress == 0:
            return counts
        time.sleep(0.05)
    raise AssertionError("the in-process worker never finished the batch")
