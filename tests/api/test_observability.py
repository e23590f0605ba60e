"""/metrics, /readyz and the access log of a real server: open without a key, per route template, with request ids."""

from __future__ import annotations

import io
import logging

import httpx
import numpy as np
from fastapi.testclient import TestClient

from ragstore.api.app import create_app
from ragstore.observability import logs
from ragstore.observability.readiness import Readiness
from tests.support.scrape import scrape, value

MODEL = "all-MiniLM-L6-v2"
SEARCH_ROUTE = "/v1/vector_stores/{vector_store_id}/search"


def test_metrics_count_requests_by_route_template_searches_embeddings_and_jobs(api, client):
    before = scrape(api.url)
    uploaded = client.files.create(
        file=("a.txt", io.BytesIO(b"Badges are collected at reception.")), purpose="assistants"
    )
    store = client.vector_stores.create(name="metrics")
    batch = client.vector_stores.file_batches.create_and_poll(vector_store_id=store.id, file_ids=[uploaded.id])
    assert batch.file_counts.completed == 1
    client.vector_stores.search(store.id, query="where are badges collected?")
    httpx.get(f"{api.url}/v1/no/such/route/{store.id}")
    after = scrape(api.url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    search_count = "ragstore_http_request_duration_seconds_count"
    assert grew(search_count, route=SEARCH_ROUTE, method="POST", status="2xx") == 1
    assert grew(search_count, route="unmatched", method="GET", status="4xx") == 1
    assert grew("ragstore_search_duration_seconds_count", ranker="hybrid") == 1
    # Two calls of the model, one text each: the file's one chunk, then the query.
    assert grew("ragstore_embedding_texts_total", model=MODEL) == 2
    assert grew("ragstore_embedding_batch_duration_seconds_count", model=MODEL) == 2
    assert value(after, "ragstore_jobs", kind="ingest_file", status="done") == 1
    assert value(after, "ragstore_jobs", kind="ingest_file", status="queued") == 0
    assert value(after, "ragstore_job_queue_depth") == 0
    assert value(after, "ragstore_database_up") == 1
    # Routes are labelled by template only: no id ever becomes a label value.
    routes = {dict(labels).get("route", "") for _, labels in after}
    assert not any(store.id in route or uploaded.id in route for route in routes)
    # The cache's counter is defined for the cache to count in (and for dashboards, before any lookup).
    assert "# TYPE ragstore_cache_requests_total counter" in httpx.get(f"{api.url}/metrics").text


def test_readyz_says_ready_without_a_key(api):
    response = httpx.get(f"{api.url}/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "migrations": True,
        "model": True,
    }
    assert body["checks"]["model"]["detail"] == f"{MODEL}, 384 dimensions"


def test_readyz_names_what_is_not_ready(settings):
    class Broken:
        model, dimension, batch_size, max_tokens = "broken-model", 384, 8, None

        def embed(self, texts):
            raise RuntimeError("the model's weights are missing")

    with TestClient(create_app(settings, Broken())) as client:
        runtime = client.app.state.runtime
        with runtime.db.connection() as conn:
            conn.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "not_ready" and body["error"]["type"] == "server_error"
    assert body["error"]["message"].startswith("Not ready: migrations: ")
    assert "model: broken-model does not embed: the model's weights are missing" in body["error"]["message"]
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "migrations": False,
        "model": False,
    }
    assert body["checks"]["migrations"]["detail"].endswith("1 pending: run `ragstore migrate`")


def test_the_model_check_is_kept_for_a_while(db):
    calls = []

    class Counting:
        model, dimension, batch_size, max_tokens = "counting", 384, 8, None

        def embed(self, texts):
            calls.append(list(texts))
            return np.ones((len(texts), 384), dtype=np.float32)

    kept = Readiness(db, Counting(), model_check_seconds=3600)
    assert [kept.checks()["model"].ok for _ in range(3)] == [True, True, True]
    assert calls == [["ready"]]
    every_time = Readiness(db, Counting(), model_check_seconds=0)
    assert [every_time.checks()["model"].ok for _ in range(2)] == [True, True]
    assert len(calls) == 3


def test_every_request_has_an_access_line_with_its_request_id(api, caplog):
    caplog.set_level(logging.DEBUG, logger="ragstore.access")
    response = httpx.get(f"{api.url}/v1/files/file-missing", headers={"x-request-id": "req_given", **auth(api)})
    assert response.status_code == 404 and response.headers["x-request-id"] == "req_given"
    httpx.get(f"{api.url}/healthz")
    lines = [record for record in caplog.records if record.name == "ragstore.access"]
    given = [record for record in lines if record.request_id == "req_given"]
    assert len(given) == 1
    line = given[0]
    assert (line.levelno, line.method, line.path, line.status) == (logging.INFO, "GET", "/v1/files/file-missing", 404)
    assert line.duration_ms >= 0
    # Probes are logged at DEBUG, out of the default logs.
    assert [record.levelno for record in lines if record.path == "/healthz"] == [logging.DEBUG]
    assert logs.request_id.get() is None  # nothing leaks out of the request's context


def auth(api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.settings.api_key}"}
