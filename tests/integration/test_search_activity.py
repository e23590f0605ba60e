"""What a search does around its query: one transaction, where one statement reads its stores before the query, and
last_active_at written at most once a minute (search.TOUCH_AFTER_SECONDS) per store, cached results or not."""

from __future__ import annotations

import contextlib

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

from ragstore.cache import QueryCache
from ragstore.cache.backends import MemoryBackend
from ragstore.errors import InvalidRequest, VectorStoreNotFound
from ragstore.ingest.embed import RemoteEmbedder
from ragstore.service import search
from tests.support.synthetic import QueryEmbedder, clustered, load_store

TENANT = "ten_activity"


@pytest.fixture
def two_stores(db):
    rng = np.random.default_rng(3)
    with db.connection() as conn:
        register_vector(conn)
        load_store(conn, TENANT, "vs_one", clustered(rng, 50))
        load_store(conn, TENANT, "vs_two", clustered(rng, 50))
    return QueryEmbedder(clustered(rng, 1)[0])


def set_last_active(db, store_id: str, seconds_ago: int) -> None:
    with db.connection() as conn:
        conn.execute(
            "UPDATE vector_stores SET last_active_at = now() - make_interval(secs => %s) WHERE id = %s",
            (seconds_ago, store_id),
        )


def seconds_since_active(db, store_id: str) -> float:
    with db.connection() as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM clock_timestamp() - last_active_at)::float8 AS s FROM vector_stores "
            "WHERE id = %s",
            (store_id,),
        ).fetchone()
    return row["s"]


def test_a_search_touches_only_stores_idle_for_a_minute(db, two_stores):
    set_last_active(db, "vs_one", 3600)
    set_last_active(db, "vs_two", 30)
    search.search(db, two_stores, TENANT, ["vs_one", "vs_two"], "q")
    assert seconds_since_active(db, "vs_one") < 60  # touched
    assert seconds_since_active(db, "vs_two") >= 30  # recent enough: left alone


def test_a_cached_result_still_touches_an_idle_store(db, two_stores):
    cache = QueryCache(MemoryBackend(), 86400, 60)
    search.search(db, two_stores, TENANT, ["vs_one"], "q", cache=cache)
    set_last_active(db, "vs_one", 3600)
    search.search(db, two_stores, TENANT, ["vs_one"], "q", cache=cache)
    assert seconds_since_active(db, "vs_one") < 60


def test_an_idle_store_with_expires_after_is_pushed_on(db, two_stores):
    with db.connection() as conn:
        conn.execute(
            'UPDATE vector_stores SET expires_after = \'{"anchor": "last_active_at", "days": 2}\', '
            "last_active_at = now() - interval '1 day', expires_at = now() + interval '1 day' WHERE id = 'vs_one'"
        )
    search.search(db, two_stores, TENANT, ["vs_one"], "q")
    with db.connection() as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM expires_at - last_active_at)::float8 AS s FROM vector_stores WHERE id = 'vs_one'"
        ).fetchone()
    assert row["s"] == pytest.approx(2 * 86400, abs=1)


def test_the_first_missing_store_is_named(db, two_stores):
    with pytest.raises(VectorStoreNotFound, match="No vector store found with id 'vs_gone'"):
        search.search(db, two_stores, TENANT, ["vs_one", "vs_gone", "vs_lost"], "q")


def test_another_tenants_store_is_missing(db, two_stores):
    with pytest.raises(VectorStoreNotFound):
        search.search(db, two_stores, "ten_other", ["vs_one"], "q")


def test_an_expired_store_is_refused(db, two_stores):
    with db.connection() as conn:
        conn.execute("UPDATE vector_stores SET expires_at = now() - interval '1 minute' WHERE id = 'vs_two'")
    with pytest.raises(InvalidRequest, match="expired"):
        search.search(db, two_stores, TENANT, ["vs_one", "vs_two"], "q")


@pytest.fixture
def statements(monkeypatch):
    """Every statement the application sends through Connection.execute, in order (BEGIN and COMMIT aside)."""
    sent = []
    original = psycopg.Connection.execute

    def counting(self, query, *args, **kwargs):
        sent.append(query)
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counting)
    return sent


def test_a_dense_search_is_one_transaction_of_three_statements(db, two_stores, statements, open_transactions):
    set_last_active(db, "vs_one", 0)
    statements.clear()
    search.search(db, two_stores, TENANT, ["vs_one"], "q")
    # The tenant's role and id, the stores with their space, counts and partition, the query.
    assert (open_transactions["opened"], len(statements)) == (1, 3)


@pytest.fixture
def open_transactions(db, monkeypatch):
    """How many tenant transactions (read-only ones included) are open now, and how many were opened in all."""
    count = {"open": 0, "opened": 0}

    def counting(opener):
        @contextlib.contextmanager
        def counted(self, tenant_id, *args, **kwargs):
            with opener(self, tenant_id, *args, **kwargs) as conn:
                count["open"] += 1
                count["opened"] += 1
                try:
                    yield conn
                finally:
                    count["open"] -= 1

        return counted

    monkeypatch.setattr(type(db), "tenant", counting(type(db).tenant))
    monkeypatch.setattr(type(db), "reader", counting(type(db).reader))
    return count


class Endpoint(RemoteEmbedder):
    """An embeddings endpoint's client that answers without a network, noting the tenant transactions open then."""

    def __init__(self, query: np.ndarray, transactions: dict[str, int]) -> None:
        super().__init__("http://127.0.0.1:9", "all-MiniLM-L6-v2", None, 384, 1)
        self.query, self.transactions, self.open_when_called = query, transactions, []

    def embed(self, texts):
        self.open_when_called.append(self.transactions["open"])
        return np.stack([self.query] * len(texts))


def test_an_endpoint_embeds_the_query_outside_any_transaction(db, two_stores, open_transactions):
    endpoint = Endpoint(two_stores.query, open_transactions)
    local = search.search(db, two_stores, TENANT, ["vs_one"], "q")
    opened = open_transactions["opened"]
    remote = search.search(db, endpoint, TENANT, ["vs_one"], "q")
    assert remote == local
    assert endpoint.open_when_called == [0]  # no connection waited on the network...
    assert (opened, open_transactions["opened"] - opened) == (1, 2)  # ...at the cost of a second transaction


def test_an_idle_store_costs_its_search_one_more_statement_a_minute(db, two_stores, statements):
    set_last_active(db, "vs_one", 3600)
    statements.clear()
    search.search(db, two_stores, TENANT, ["vs_one"], "q")
    search.search(db, two_stores, TENANT, ["vs_one"], "q")
    # The first search also touches the store, in a transaction of its own on the primary (its tenant,
    # synchronous_commit off, the UPDATE); the second finds it recent.
    assert len(statements) == 6 + 3
