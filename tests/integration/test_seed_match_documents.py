"""The seeds' match_documents in SQL (migration 0016), called as seed 003's guide calls them, as the app role."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row

from ragstore.models import DEFAULT_TENANT
from ragstore.service import reembed, search, spaces
from tests.integration.test_tenancy import as_app, two_tenants  # noqa: F401 - the fixture
from tests.support.documents import corpus
from tests.support.embeddings_server import embeddings_server
from tests.support.ingesting import ingest
from tests.support.synthetic import clustered, load_store

SEED_003_FLOAT32 = "SELECT * FROM match_documents(array_fill(0.1, ARRAY[{n}])::vector({n}), %s, 0.3, 5)"
SEED_003_FLOAT16 = "SELECT * FROM match_documents_half(array_fill(0.1, ARRAY[{n}])::halfvec({n}), %s, 0.3, 5)"


def text(vector) -> str:
    return "[" + ",".join(f"{x:.7f}" for x in vector) + "]"


def enter(conn: psycopg.Connection, tenant_id: str) -> None:
    conn.execute("SELECT set_config('ragstore.tenant_id', %s, false)", (tenant_id,))


def test_seed_003_calls_as_written_with_the_store_dimension(database_url, two_tenants):  # noqa: F811
    a, b = two_tenants
    with as_app(database_url) as conn:
        enter(conn, b.id)
        for template in (SEED_003_FLOAT32, SEED_003_FLOAT16):
            # the guide's literal call asks for 768 dimensions: ragstore's stores have 384, and say so
            with pytest.raises(
                psycopg.errors.DataException, match="768 dimensions; the vector stores searched have 384"
            ):
                conn.execute(template.format(n=768), (b.id,))
            rows = conn.execute(template.format(n=384).replace("0.3, 5", "-1, 5"), (b.id,)).fetchall()
            chunks = conn.execute("SELECT count(*) AS n FROM chunks").fetchone()["n"]  # b's, under RLS
            assert len(rows) == min(5, chunks) > 0 and list(rows[0]) == [
                "id",
                "content",
                "metadata",
                "similarity",
                "vector_store_id",
                "file_id",
            ]
            assert all(isinstance(r["metadata"], dict) and r["content"] for r in rows)


def test_rows_agree_with_search_and_stay_in_the_session_tenant(database_url, db, embedder, two_tenants):  # noqa: F811
    a, b = two_tenants
    with psycopg.connect(database_url, row_factory=dict_row) as owner:
        a_store = owner.execute("SELECT id FROM vector_stores WHERE tenant_id = %s", (a.id,)).fetchone()["id"]
    question = "where are staff allowed to park their vehicles?"
    hits = search.search(db, embedder, a.id, [a_store], question, k=3, ranker="dense")
    vector = text(embedder.embed([question])[0])
    with as_app(database_url) as conn:
        enter(conn, a.id)
        rows = conn.execute("SELECT * FROM match_documents(%s::vector, %s, -1, 3)", (vector, a.id)).fetchall()
        assert [r["id"] for r in rows] == [h.chunk_id for h in hits]
        assert rows[0]["similarity"] == pytest.approx(hits[0].score, abs=1e-3)
        half = conn.execute("SELECT id FROM match_documents_half(%s::halfvec, NULL, -1, 3)", (vector,)).fetchall()
        assert [r["id"] for r in half] == [r["id"] for r in rows]  # NULL: the session's tenant
        seed_002 = conn.execute("SELECT id, content, metadata, similarity FROM match_documents(%s, -1, 3)", (vector,))
        assert [r["id"] for r in seed_002.fetchall()] == [r["id"] for r in rows]

        enter(conn, b.id)  # b names a's company: row-level security shows b nothing of a
        for call in ("match_documents(%s::vector, %s, -1, 50)", "match_documents_half(%s::halfvec, %s, -1, 50)"):
            assert conn.execute(f"SELECT * FROM {call}", (vector, a.id)).fetchall() == []
        own = conn.execute("SELECT vector_store_id FROM match_documents(%s::vector, NULL, -1, 50)", (vector,))
        assert {r["vector_store_id"] for r in own} and all(r["vector_store_id"] != a_store for r in own)

    with psycopg.connect(database_url, row_factory=dict_row) as owner:  # the owner reads the company named
        named = owner.execute("SELECT id FROM match_documents(%s::vector, %s, -1, 3)", (vector, a.id)).fetchall()
        assert [r["id"] for r in named] == [r["id"] for r in rows]


def test_functions_are_security_invoker(database_url):
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT proname, prosecdef FROM pg_proc WHERE proname IN ('match_documents', 'match_documents_half')"
        ).fetchall()
    assert len(rows) == 3 and not any(secdef for _, secdef in rows)


def test_a_store_re_embedded_is_matched_in_its_own_dimension(db, embedder, chunker, database_url):
    store, _ = ingest(db, embedder, chunker, corpus())
    document = corpus()[1]
    with embeddings_server(embedder) as remote:
        target = reembed.NewModel(remote.model, remote.dimension, remote.url)
        space = reembed.start(db, DEFAULT_TENANT, store.id, target, embedder)
        remote_embedder = spaces.embedder_for(embedder, remote.model, remote.dimension, space)
        reembed.build(db, DEFAULT_TENANT, space, remote_embedder, chunker)
        reembed.switch(db, DEFAULT_TENANT, store.id)
        query = text(remote_embedder.embed([document.question])[0])
    with as_app(database_url) as conn:
        enter(conn, DEFAULT_TENANT)
        rows = conn.execute("SELECT * FROM match_documents(%s::vector, NULL, -1, 3)", (query,)).fetchall()
        assert len(query.split(",")) == 512 and document.passage in rows[0]["content"]
        with pytest.raises(psycopg.errors.DataException, match="384 dimensions; the vector stores searched have 512"):
            conn.execute("SELECT * FROM match_documents_half(array_fill(0.1, ARRAY[384])::halfvec, NULL, 0, 3)")


def test_match_documents_walks_the_partition_s_hnsw_index(database_url):
    vectors = clustered(np.random.default_rng(1), 3000)
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as owner:
        register_vector(owner)
        load_store(owner, DEFAULT_TENANT, "vs_synthetic", vectors)
        owner.execute("ANALYZE chunks")
        partition = owner.execute(
            "SELECT tableoid::regclass::text AS p FROM chunks WHERE tenant_id = %s LIMIT 1", (DEFAULT_TENANT,)
        ).fetchone()["p"]
        index = owner.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%USING hnsw%%'", (partition,)
        ).fetchone()["indexname"]
    with as_app(database_url) as conn, conn.transaction():  # one transaction: its index scans are counted
        enter(conn, DEFAULT_TENANT)
        conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        for vector in vectors[:10]:
            walked = conn.execute(
                "SELECT id, similarity FROM match_documents(%s::vector, NULL, 0.3, 5)", (text(vector),)
            ).fetchall()
            conn.execute("SET LOCAL enable_indexscan = off")
            exact = conn.execute(
                "SELECT id FROM chunks WHERE 1 - (embedding <=> %s::halfvec(384)) > 0.3 "
                "ORDER BY embedding <=> %s::halfvec(384), id LIMIT 5",
                (text(vector), text(vector)),
            ).fetchall()
            conn.execute("SET LOCAL enable_indexscan = on")
            assert [r["id"] for r in walked] == [r["id"] for r in exact] and len(walked) == 5
        scans = conn.execute("SELECT pg_stat_get_xact_numscans(%s::regclass) AS n", (index,)).fetchone()["n"]
    assert scans == 10  # each call walked the HNSW index of the tenant's partition
