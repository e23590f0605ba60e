"""Isolation in the database itself: row-level security as the application role, one partition per query."""

from __future__ import annotations

import re

import numpy as np
import psycopg
import pytest
from pgvector import HalfVector
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row

from ragstore.service import tenants
from ragstore.store import migrate
from ragstore.store.chunks import vector_source
from ragstore.store.queries import QUERIES
from tests.support.documents import corpus
from tests.support.ingesting import ingest
from tests.support.synthetic import clustered, load_store

TENANT_TABLES = [
    "files",
    "file_parts",
    "vector_stores",
    "file_batches",
    "vector_store_files",
    "chunks",
    "jobs",
    "conversations",
    "messages",
    "feedback",
    "training_examples",
    "datasets",
    "dataset_examples",
]


@pytest.fixture
def two_tenants(db, embedder, chunker):
    a, b = tenants.create_tenant(db, "acme"), tenants.create_tenant(db, "globex")
    documents = corpus()
    for tenant, docs in ((a, documents[:3]), (b, documents[3:5])):
        ingest(db, embedder, chunker, docs, tenant_id=tenant.id)
    return a, b


def as_app(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url, row_factory=dict_row, autocommit=True)  # the role holds for the session
    conn.execute("SET ROLE ragstore_app")
    return conn


def test_rls_shows_no_foreign_rows_even_without_a_where_clause(database_url, two_tenants):
    a, b = two_tenants
    with as_app(database_url) as conn:
        conn.execute("SELECT set_config('ragstore.tenant_id', %s, false)", (b.id,))
        for table in TENANT_TABLES:
            owners = {r["tenant_id"] for r in conn.execute(f"SELECT tenant_id FROM {table}")}  # no WHERE
            assert owners <= {b.id}, table
        assert conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"] > 0
        conn.execute("SELECT set_config('ragstore.tenant_id', '', false)")
        assert all(conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] == 0 for t in TENANT_TABLES)


def test_rls_refuses_writes_into_another_tenant(database_url, two_tenants):
    a, b = two_tenants
    with as_app(database_url) as conn:
        conn.execute("SELECT set_config('ragstore.tenant_id', %s, false)", (b.id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO vector_stores (tenant_id, id, embedding_model, embedding_dim) "
                "VALUES (%s, 'vs_intruder', 'm', 384)",
                (a.id,),
            )
        assert conn.execute("SELECT current_user AS u").fetchone()["u"] == "ragstore_app"
        assert conn.execute("UPDATE chunks SET text = 'x' WHERE tenant_id = %s", (a.id,)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM api_keys")


def test_every_table_with_a_tenant_column_is_under_row_level_security(database_url):
    """A table added later without its policy would leak across tenants: the catalog says none was forgotten."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity AS secured, "
            "       EXISTS (SELECT FROM pg_policies p WHERE p.tablename = c.relname) AS has_policy "
            "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "  AND c.relname <> 'api_keys'"  # the app role has no grant on it at all
        ).fetchall()
    unsecured = sorted(r["relname"] for r in rows if not (r["secured"] and r["has_policy"]))
    assert rows and unsecured == []
    assert set(TENANT_TABLES) <= {r["relname"] for r in rows}


def test_the_application_role_cannot_bypass_rls(database_url):
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'ragstore_app'").fetchone()
    assert row == (False, False)


def test_a_tenant_search_touches_one_partition(database_url, two_tenants):
    a, _ = two_tenants
    query = psycopg.sql.SQL(QUERIES["search_chunks"]).format(filter=psycopg.sql.SQL("TRUE"), **vector_source(None))
    with as_app(database_url) as conn:
        from pgvector.psycopg import register_vector

        register_vector(conn)
        conn.execute("SELECT set_config('ragstore.tenant_id', %s, false)", (a.id,))
        stores = [r["id"] for r in conn.execute("SELECT id FROM vector_stores")]
        params = {
            "tenant_id": a.id,
            "store_ids": stores,
            "embedding": HalfVector(np.ones(384, dtype=np.float32)),
            "limit": 10,
            "threshold": 0.0,
        }
        plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(psycopg.sql.SQL("EXPLAIN ") + query, params))
    partitions = set(re.findall(r"\bchunks_p\d+(?!\w)", plan))
    assert len(partitions) == 1, plan


def test_the_partition_count_is_configurable(empty_database_url):
    with psycopg.connect(empty_database_url, autocommit=True, row_factory=dict_row) as conn:
        migrate.apply(conn, chunk_partitions=4)
        n = conn.execute("SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'chunks'::regclass").fetchone()["n"]
        indexes = conn.execute("SELECT count(*) AS n FROM pg_indexes WHERE tablename = 'chunks_p03'").fetchone()["n"]
    assert n == 4 and indexes >= 5  # primary key, position, HNSW, two GIN


def test_lexical_candidates_returns_only_the_entered_tenant_s_chunks(database_url, two_tenants):
    """The security-definer function behind BM25 bypasses the policy, so it must restrict itself."""
    a, b = two_tenants
    with psycopg.connect(database_url, row_factory=dict_row, autocommit=True) as owner:
        stores = {r["tenant_id"]: r["id"] for r in owner.execute("SELECT tenant_id, id FROM vector_stores")}
        every_store = list(stores.values())
        every_word = owner.execute(  # a query matching every chunk of both tenants
            "SELECT string_agg(quote_literal(word), ' | ')::text AS q "
            "FROM (SELECT DISTINCT unnest(tsvector_to_array(fts)) AS word FROM chunks) words"
        ).fetchone()["q"]
    question = "SELECT count(*) AS n FROM lexical_candidates(%s, %s::tsquery)"
    with as_app(database_url) as conn:
        assert conn.execute(question, (every_store, every_word)).fetchone()["n"] == 0  # no tenant entered: nothing
        for tenant in (a, b):
            conn.execute("SELECT set_config('ragstore.tenant_id', %s, false)", (tenant.id,))
            own = conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"]
            assert own > 0
            assert conn.execute(question, ([stores[tenant.id]], every_word)).fetchone()["n"] == own
            assert conn.execute(question, (every_store, every_word)).fetchone()["n"] == own  # no foreign chunk
        conn.execute("SELECT set_config('ragstore.tenant_id', '', false)")


def test_a_tenant_s_lexical_search_reads_the_text_index(database_url):
    """Under row-level security `@@` is not leakproof: the plain query could only scan the tenant's every chunk.

    The index's scan counter, flushed by this backend, must grow by the search; with the query written as before
    migration 0013 it does not.
    """
    with psycopg.connect(database_url, row_factory=dict_row, autocommit=True) as owner:
        register_vector(owner)
        load_store(owner, "tenant_fts", "vs_fts", clustered(np.random.default_rng(3), 5000))
        owner.execute(
            "UPDATE chunks SET text = 'plain words ' || CASE WHEN chunk_index % 1000 = 0 THEN 'zanzibar' ELSE '' END"
        )
        owner.execute("UPDATE chunks SET fts = to_tsvector('english', text)")
        owner.execute("ANALYZE chunks")
    params = {"tenant_id": "tenant_fts", "store_ids": ["vs_fts"], "query": "zanzibar", "language": "english"}
    query = psycopg.sql.SQL(QUERIES["search_chunks_lexical"]).format(filter=psycopg.sql.SQL("TRUE"))
    with as_app(database_url) as conn:
        conn.execute("SELECT set_config('ragstore.tenant_id', 'tenant_fts', false)")
        before = text_index_scans(conn)
        hits = conn.execute(query, {**params, "limit": 10, "k1": 1.2, "b": 0.75}).fetchall()
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("SELECT set_config('ragstore.tenant_id', '', false)")
        after = text_index_scans(conn)
    assert len(hits) == 5
    assert after > before


def text_index_scans(conn: psycopg.Connection) -> int:
    """Scans of the chunks' text indexes, as this backend's statistics see them now."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return conn.execute(
        "SELECT coalesce(sum(idx_scan), 0) AS n FROM pg_stat_all_indexes WHERE indexrelname LIKE 'chunks_p%%_fts_idx'"
    ).fetchone()["n"]
