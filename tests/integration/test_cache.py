"""The query cache: repeated searches hit, any write to a store makes the next search miss, Redis is shared by
processes and its absence costs nothing but the cache. Redis is the machine's, at 127.0.0.1:6379, under a key prefix
of each test's own; TTLs are checked with a clock the test moves."""

from __future__ import annotations

import dataclasses
import io
import logging
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from prometheus_client import REGISTRY

from ragstore.cache import QueryCache, open_cache
from ragstore.cache.backends import BREAKER_SECONDS, MemoryBackend, RedisBackend
from ragstore.config import Settings
from ragstore.models import DEFAULT_TENANT
from ragstore.service import files, ingestion, search, stores, vector_store_files
from ragstore.worker import Worker, ingestion_tasks
from tests.support.served import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
T = DEFAULT_TENANT
VACATION = b"Employees receive 25 days of paid vacation per year, carried over until March 31."
PASSWORD = b"To reset your password, open Settings, choose Security and click Forgot password."
PARKING = b"The staff car park opens at 6 am; badges are handed out at the front desk."
QUESTION = "how many holidays do I get"


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own in the machine's Redis, emptied afterwards."""
    name = f"ragstore-test:{uuid.uuid4().hex}:"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=["memory", "redis"])
def cache(request, prefix) -> Iterator[QueryCache]:
    backend = MemoryBackend() if request.param == "memory" else RedisBackend(REDIS_URL)
    found = QueryCache(backend, embedding_ttl=86400, search_ttl=60, prefix=prefix)
    yield found
    found.close()


def upload(db, name: str, data: bytes) -> str:
    return files.upload(db, T, name, io.BytesIO(data)).id


def drain(db, embedder, chunker) -> None:
    Worker(db, ingestion_tasks(db, embedder, chunker)).drain()


def handbook(db, embedder, chunker, *documents: tuple[str, bytes]):
    """A store with these documents ingested, and their file ids."""
    store = stores.create(db, T, embedder, "handbook")
    file_ids = [upload(db, name, data) for name, data in documents]
    ingestion.create_batch(db, T, store, file_ids, ingestion.chunking())
    drain(db, embedder, chunker)
    return store, file_ids


def find(db, embedder, cache, store_id: str, query: str = QUESTION, **options):
    return search.search(db, embedder, T, [store_id], query, k=3, cache=cache, **options)


def counted(kind: str, result: str) -> float:
    return REGISTRY.get_sample_value("ragstore_cache_requests_total", {"kind": kind, "result": result}) or 0.0


def test_a_repeated_search_is_a_hit_with_the_same_hits(db, embedder, chunker, cache):
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION), ("password.txt", PASSWORD))
    hits_before = counted("search", "hit")
    first = find(db, embedder, cache, store.id, ranker="hybrid")
    second = find(db, embedder, cache, store.id, ranker="hybrid")
    assert second == first and first[0].filename == "vacation.txt"
    assert cache.stats()["search"] == {"hit": 1, "miss": 1}
    assert cache.stats()["query_embedding"] == {"hit": 0, "miss": 1}
    assert counted("search", "hit") == hits_before + 1
    # Other options are another search (a miss: on this query of common words hybrid ranks as dense alone, so
    # the hits cannot tell), but the query's embedding is the same.
    find(db, embedder, cache, store.id, ranker="dense")
    assert cache.stats()["search"] == {"hit": 1, "miss": 2}
    assert cache.stats()["query_embedding"] == {"hit": 1, "miss": 1}


def test_a_cached_search_still_counts_as_activity(db, embedder, chunker, cache):
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION))
    find(db, embedder, cache, store.id)
    with db.connection() as conn:
        conn.execute("UPDATE vector_stores SET last_active_at = now() - interval '3 days'")
    find(db, embedder, cache, store.id)
    assert cache.stats()["search"]["hit"] == 1
    with db.connection() as conn:
        age = conn.execute("SELECT now() - last_active_at AS age FROM vector_stores").fetchone()["age"]
    assert age.days == 0


def test_every_write_to_a_store_makes_the_next_search_miss(db, embedder, chunker, cache):
    store, (password,) = handbook(db, embedder, chunker, ("password.txt", PASSWORD))
    fingerprints: list[int] = []

    def search_twice() -> list:
        misses = cache.stats()["search"]["miss"]
        hits = find(db, embedder, cache, store.id)
        assert cache.stats()["search"]["miss"] == misses + 1, "the write did not make the search miss"
        assert find(db, embedder, cache, store.id) == hits
        fingerprints.append(stores.get(db, T, store.id).content_fingerprint)
        return hits

    assert [hit.filename for hit in search_twice()] == ["password.txt"]

    vacation = upload(db, "vacation.txt", VACATION)
    vector_store_files.attach(db, T, store.id, ingestion.FileSpec(vacation, attributes={"team": "hr"}))
    drain(db, embedder, chunker)
    hits = search_twice()
    assert hits[0].filename == "vacation.txt" and hits[0].attributes == {"team": "hr"}

    vector_store_files.update_attributes(db, T, store.id, vacation, {"team": "people"})
    assert search_twice()[0].attributes == {"team": "people"}

    vector_store_files.detach(db, T, store.id, password)
    assert [hit.filename for hit in search_twice()] == ["vacation.txt"]

    files.delete(db, T, vacation)
    assert search_twice() == []

    parking = upload(db, "parking.txt", PARKING)
    vector_store_files.attach(db, T, store.id, ingestion.FileSpec(parking))
    assert search_twice() == []  # attached, not yet ingested: a write all the same
    drain(db, embedder, chunker)
    assert [hit.filename for hit in search_twice()] == ["parking.txt"]
    assert len(set(fingerprints)) == len(fingerprints)


def test_a_switch_of_embedding_space_or_model_is_another_key(db, embedder, chunker):
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION))
    cache = QueryCache(MemoryBackend(), 86400, 60)
    key = cache.search_key(embedder, T, [store], [QUESTION], k=3)
    for change in ({"active_space_id": "sp_1"}, {"embedding_model": "other"}, {"content_fingerprint": 1}):
        assert cache.search_key(embedder, T, [dataclasses.replace(store, **change)], [QUESTION], k=3) != key
    assert cache.search_key(embedder, "ten_other", [store], [QUESTION], k=3) != key
    assert cache.search_key(embedder, T, [store], [QUESTION], k=3, filters={"a": 1}) != key
    assert cache.search_key(embedder, T, [store], [QUESTION], k=3) == key


def test_two_processes_share_the_redis_cache(db, embedder, chunker, prefix):
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION), ("password.txt", PASSWORD))
    one = QueryCache(RedisBackend(REDIS_URL), 86400, 60, prefix=prefix)
    other = QueryCache(RedisBackend(REDIS_URL), 86400, 60, prefix=prefix)
    try:
        first = find(db, embedder, one, store.id)
        assert find(db, embedder, other, store.id) == first
        assert other.stats()["search"] == {"hit": 1, "miss": 0}
        # A write seen by one process invalidates the other's entries: the key is in the database, not in memory.
        parking = upload(db, "parking.txt", PARKING)
        vector_store_files.attach(db, T, store.id, ingestion.FileSpec(parking))
        drain(db, embedder, chunker)
        find(db, embedder, one, store.id, query="where do I park")
        assert find(db, embedder, other, store.id, query="where do I park")[0].filename == "parking.txt"
        assert other.stats()["search"] == {"hit": 2, "miss": 0}
        assert other.stats()["query_embedding"] == {"hit": 0, "miss": 0}
    finally:
        one.close()
        other.close()


def start_redis(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(500):
        try:
            client.ping()
            return server
        except redis.ConnectionError:
            time.sleep(0.01)  # waiting for it to listen, not timing anything
    server.kill()
    raise RuntimeError("redis-server did not start")


def test_with_redis_down_searches_go_on_uncached_and_the_log_says_so_once(db, embedder, chunker, caplog):
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION), ("password.txt", PASSWORD))
    uncached = find(db, embedder, None, store.id)
    port, clock = free_port(), Clock()
    cache = QueryCache(RedisBackend(f"redis://127.0.0.1:{port}/0", clock=clock), 86400, 60)
    caplog.set_level(logging.INFO, logger="ragstore.cache")
    for _ in range(3):
        assert find(db, embedder, cache, store.id) == uncached
        clock.now += BREAKER_SECONDS + 1  # Redis is tried again, and fails again
    down = [r for r in caplog.records if r.name.startswith("ragstore.cache")]
    assert [r.levelname for r in down] == ["WARNING"] and "unavailable" in down[0].getMessage()
    assert cache.stats()["search"] == {"hit": 0, "miss": 3}


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server to start one of its own")
def test_when_redis_comes_back_the_log_says_so_once_and_caching_resumes(db, embedder, chunker, caplog):
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION))
    port, clock = free_port(), Clock()
    cache = QueryCache(RedisBackend(f"redis://127.0.0.1:{port}/0", clock=clock), 86400, 60)
    caplog.set_level(logging.INFO, logger="ragstore.cache")
    first = find(db, embedder, cache, store.id)
    server = start_redis(port)
    try:
        assert find(db, embedder, cache, store.id) == first  # within the pause: Redis is not asked
        clock.now += BREAKER_SECONDS + 1
        for _ in range(3):
            assert find(db, embedder, cache, store.id) == first
        messages = [r.getMessage() for r in caplog.records if r.name.startswith("ragstore.cache")]
        assert len(messages) == 2 and "unavailable" in messages[0] and "is back" in messages[1]
        assert cache.stats()["search"] == {"hit": 2, "miss": 3}
    finally:
        cache.close()
        server.terminate()
        server.wait()


def test_a_redis_that_never_answers_costs_at_most_its_timeouts(db, embedder, chunker):
    """A listener that accepts connections and never replies: the read times out once, then the breaker skips it."""
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION))
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        cache = QueryCache(RedisBackend(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", clock=Clock()), 86400, 60)
        assert find(db, embedder, cache, store.id)[0].filename == "vacation.txt"
        assert cache.backend.down
        cache.close()


def test_entries_expire_after_their_kind_s_ttl(db, embedder, chunker):
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION))
    clock = Clock()
    cache = QueryCache(MemoryBackend(clock=clock), embedding_ttl=3600, search_ttl=60)
    find(db, embedder, cache, store.id)
    clock.now += 59
    find(db, embedder, cache, store.id)
    assert cache.stats()["search"] == {"hit": 1, "miss": 1}
    clock.now += 2  # the results have expired, the embedding has not
    find(db, embedder, cache, store.id)
    assert cache.stats()["search"] == {"hit": 1, "miss": 2}
    assert cache.stats()["query_embedding"] == {"hit": 1, "miss": 1}
    clock.now += 3600
    find(db, embedder, cache, store.id)
    assert cache.stats()["query_embedding"] == {"hit": 1, "miss": 2}


def test_redis_entries_carry_their_ttl(db, embedder, chunker, prefix):
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION))
    cache = QueryCache(RedisBackend(REDIS_URL), embedding_ttl=3600, search_ttl=60, prefix=prefix)
    find(db, embedder, cache, store.id)
    client = redis.Redis.from_url(REDIS_URL)
    ttls = {key.decode().split(":")[3]: client.pttl(key) for key in client.scan_iter(match=f"{prefix}*")}
    assert set(ttls) == {"query_embedding", "search"}
    assert 0 < ttls["search"] <= 60_000 and 60_000 < ttls["query_embedding"] <= 3_600_000
    client.close()
    cache.close()


def test_a_kind_with_ttl_zero_is_not_cached(db, embedder, chunker):
    store, _ = handbook(db, embedder, chunker, ("vacation.txt", VACATION))
    backend = MemoryBackend()
    cache = QueryCache(backend, embedding_ttl=86400, search_ttl=0)
    first = find(db, embedder, cache, store.id)
    assert find(db, embedder, cache, store.id) == first
    assert cache.stats()["search"] == {"hit": 0, "miss": 0}
    assert cache.stats()["query_embedding"] == {"hit": 1, "miss": 1}
    assert len(backend) == 1


def test_the_memory_backend_forgets_the_least_recently_used_first():
    backend = MemoryBackend(max_bytes=30, clock=Clock())
    for key in ("a", "b", "c"):
        backend.set(key, b"x" * 10, 60)
    backend.get("a")
    backend.set("d", b"x" * 10, 60)
    assert [key for key in "abcd" if backend.get(key) is not None] == ["a", "c", "d"]
    backend.set("huge", b"x" * 31, 60)
    assert backend.get("huge") is None and len(backend) == 3


def test_settings_choose_the_backend(tmp_path):
    memory = open_cache(Settings(data_dir=tmp_path))
    shared = open_cache(Settings(data_dir=tmp_path, redis_url=REDIS_URL, cache_search_ttl_seconds=5))
    assert (memory.stats()["backend"], shared.stats()["backend"]) == ("memory", "redis")
    assert shared.ttl == {"query_embedding": 86400, "search": 5}
    with pytest.raises(ValueError, match="redis://"):
        Settings(data_dir=tmp_path, redis_url="http://127.0.0.1:6379")
    shared.close()
