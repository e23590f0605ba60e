"""The Prometheus metrics of a ragstore process, defined once at import (prometheus-client's default registry).

A leaf: it imports nothing of ragstore, so that every layer may count and time its work here (tests/unit/test_layers.py
holds it to that). What a scrape returns, readiness and the logs are the edge's, in ragstore/observability/.

Each process has its own registry: a scrape of /metrics sees the process that answered it. `ragstore serve` is one
process (its ingestion workers are threads), so its /metrics is the whole server; `ragstore worker` processes
serve no HTTP, and the job metrics, read from the database at scrape time, cover every worker of the database.
Running several server processes behind one address would need prometheus-client's multiprocess mode, which
ragstore does not set up; scrape each process (each replica) on its own instead.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from prometheus_client import Counter, Histogram

# Latency buckets in seconds: requests and searches from 5 ms; embedding calls (a whole file's chunks) up to minutes.
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

HTTP_REQUEST_SECONDS = Histogram(
    "ragstore_http_request_duration_seconds",
    "Time from a request's arrival to its response's start, by route template, method and status class (2xx..5xx).",
    ["route", "method", "status"],
    buckets=_FAST,
)
SEARCH_SECONDS = Histogram(
    "ragstore_search_duration_seconds",
    "Time of one search (query embedding included), by ranker: dense, lexical or hybrid.",
    ["ranker"],
    buckets=_FAST,
)
EMBEDDED_TEXTS = Counter(
    "ragstore_embedding_texts_total",
    "Texts embedded (chunks, windows of long chunks, queries), by model; its rate is the embedding throughput.",
    ["model"],
)
EMBEDDING_BATCH_SECONDS = Histogram(
    "ragstore_embedding_batch_duration_seconds",
    "Time of one call to the embedder (one file's chunks, one query, ...), by model.",
    ["model"],
    buckets=_SLOW,
)
# Counted by the query-embedding and search-result cache: kind is what was looked up (e.g. query_embedding,
# search), result is hit or miss. Defined here so that dashboards can be built before the cache exists.
CACHE_REQUESTS = Counter(
    "ragstore_cache_requests_total",
    "Cache lookups by kind (query_embedding, search, ...) and result (hit, miss).",
    ["kind", "result"],
)
# Counted by the read replicas (store/replicas.py), whether or not any is configured.
DATABASE_READS = Counter(
    "ragstore_database_reads_total",
    "Read transactions (searches, listings, gets) by the server that ran them (primary, or a replica's name) and why:"
    " replica, no_replica (none up), behind (none had replayed the tenant's last write in time), busy (no free"
    " connection in the replica's pool).",
    ["server", "reason"],
)
REPLICA_FAILED_READS = Counter(
    "ragstore_replica_failed_reads_total",
    "Reads that failed midway on a replica and ran again elsewhere, by replica and why: broken (its connection, e.g."
    " the standby stopped) or conflict (a query cancelled by a conflict with recovery).",
    ["replica", "reason"],
)


P = ParamSpec("P")
R = TypeVar("R")


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one HTTP request in the latency histogram of its route template."""
    HTTP_REQUEST_SECONDS.labels(route, method, f"{status // 100}xx").observe(seconds)


@contextmanager
def timed_search(ranker: str) -> Iterator[None]:
    """Time a search that succeeds (a refused one, e.g. with an unknown ranker, is not a search)."""
    started = time.perf_counter()
    yield
    SEARCH_SECONDS.labels(ranker).observe(time.perf_counter() - started)


def search_timer(func: Callable[P, R]) -> Callable[P, R]:
    """Time each successful call of a search function in SEARCH_SECONDS, by its `ranker` argument."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def timed(*args: P.args, **kwargs: P.kwargs) -> R:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        with timed_search(str(bound.arguments["ranker"])):
            return func(*args, **kwargs)

    return timed


@contextmanager
def timed_embedding(model: str, texts: int) -> Iterator[None]:
    """Time one embedder call; its texts count once it succeeded."""
    started = time.perf_counter()
    yield
    EMBEDDING_BATCH_SECONDS.labels(model).observe(time.perf_counter() - started)
    EMBEDDED_TEXTS.labels(model).inc(texts)


def route_template(scope: Mapping[str, Any]) -> str:
    """The template of the route that served an ASGI request (`/v1/files/{file_id}`), never its raw path; paths
    no route serves are all `unmatched`, so that random URLs cannot grow the label set."""
    return getattr(scope.get("route"), "path", None) or "unmatched"
