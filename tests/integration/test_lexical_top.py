"""BM25's bounded walk (lexical_top, migration 0021) gives the top k that scoring every candidate gives."""

from __future__ import annotations

import random

import numpy as np
import pytest
from pgvector.psycopg import register_vector
from psycopg import sql

from ragstore.service import fusion, search
from ragstore.store import chunks
from ragstore.store.queries import QUERIES
from tests.integration.test_tenancy import as_app, text_index_scans
from tests.support.synthetic import QueryEmbedder, clustered, load_store

TENANT = "ten_lexical"
COMMON = ["river", "stone", "bridge", "water"]
RARE = ["apple", "violin", "comet"]


def text(rng: random.Random, i: int) -> str:
    """A chunk holding one or two of the common words (each in about a third of the chunks), up to 20 times each,
    and filler; every 60th chunk a rare word once, in 200 words of filler."""
    words = [w for w in rng.sample(COMMON, rng.randint(1, 2)) for _ in range(rng.choice([1, 1, 2, 3, 20]))]
    if i % 60 == 0:
        words = (
            [RARE[(i // 60) % len(RARE)]] + [rng.choice(COMMON)] + [f"filler{rng.randint(0, 50)}" for _ in range(200)]
        )
    words += [f"filler{rng.randint(0, 500)}" for _ in range(rng.randint(0, 20))]
    rng.shuffle(words)
    return " ".join(words)


@pytest.fixture
def store(db):
    rng = random.Random(5)
    with db.connection() as conn:
        register_vector(conn)
        load_store(conn, TENANT, "vs_words", clustered(np.random.default_rng(5), 600))
        for i in range(600):
            conn.execute(
                "UPDATE chunks SET text = %s WHERE tenant_id = %s AND chunk_index = %s", (text(rng, i), TENANT, i)
            )
        conn.execute(
            "UPDATE chunks SET fts = to_tsvector('english', text), lexical_length = (SELECT "
            "coalesce(sum(coalesce(array_length(positions, 1), 1)), 0) FROM unnest(to_tsvector('english', text)))"
        )
        conn.execute(
            "UPDATE vector_store_files SET lexical_tokens = "
            "(SELECT sum(lexical_length) FROM chunks WHERE tenant_id = %s) WHERE tenant_id = %s",
            (TENANT, TENANT),
        )
        conn.execute("ANALYZE chunks")
    return "vs_words"


def every_candidate(conn, query: str, limit: int) -> list[dict]:
    """BM25 by scoring every chunk holding a query term (search_chunks_lexical, no filter)."""
    statement = sql.SQL(QUERIES["search_chunks_lexical"]).format(filter=sql.SQL("TRUE"))
    params = {"tenant_id": TENANT, "store_ids": ["vs_words"], "query": query, "language": "english"}
    return conn.execute(statement, {**params, "limit": limit, "k1": chunks.BM25_K1, "b": chunks.BM25_B}).fetchall()


PHRASES = ["apple river stone bridge", "violin bridge water river", "comet stone", "river stone bridge water", "apple"]


@pytest.mark.parametrize("query", PHRASES)
@pytest.mark.parametrize("limit", [1, 3, 10, 100])
def test_the_bounded_walk_keeps_the_exact_top_k(db, store, query, limit):
    with db.tenant(TENANT) as conn:
        full = every_candidate(conn, query, limit)
        hits, dfs, documents = chunks.search_chunks_lexical_weighted(conn, TENANT, [store], query, limit)
    assert [hit.chunk_id for hit in hits] == [row["id"] for row in full]
    assert [hit.score for hit in hits] == pytest.approx([row["score"] for row in full], rel=1e-12)
    assert dfs == tuple(full[0]["dfs"]) and documents == full[0]["documents"] == 600


def test_common_terms_dominate_the_case(db, store):
    """The walk starts from the rare term's chunks; the best chunks here hold only common ones, many times."""
    with db.tenant(TENANT) as conn:
        full = every_candidate(conn, "apple river stone bridge", 3)
        apple = {row["id"] for row in conn.execute("SELECT id FROM chunks WHERE fts @@ to_tsquery('english', 'apple')")}
    assert apple and not apple & {row["id"] for row in full}


def test_a_query_of_common_words_is_ranked_by_the_cosine_alone(db, store):
    """No rare term: the default hybrid ranking skips BM25 and equals the dense one, scores included."""
    query = clustered(np.random.default_rng(9), 1)[0]
    embedder = QueryEmbedder(query)
    floor = fusion.rescue_floor(600)
    with db.tenant(TENANT) as conn:
        dfs, documents = chunks.lexical_rarity(conn, TENANT, [store], "river stone water", floor)
    assert documents == 600 and all(df == floor for df in dfs)
    with db.tenant(TENANT) as conn:  # with a rare word, BM25 counts
        dfs, _ = chunks.lexical_rarity(conn, TENANT, [store], "apple river", floor)
    assert any(0 < df < floor for df in dfs)
    hybrid = search.search(db, embedder, TENANT, [store], "river stone water", k=10, ranker="hybrid")
    dense = search.search(db, embedder, TENANT, [store], "river stone water", k=10, ranker="dense")
    assert [(h.chunk_id, h.score) for h in hybrid] == [(h.chunk_id, h.score) for h in dense]


def test_the_counts_and_the_walk_see_only_the_entered_tenant(db, store):
    """Both functions are security definers, past row-level security: they must restrict themselves."""
    with db.connection() as conn:
        register_vector(conn)
        load_store(conn, "ten_other", "vs_other", clustered(np.random.default_rng(6), 50))
        conn.execute(
            "UPDATE chunks SET text = 'river stone', fts = to_tsvector('english', 'river stone'), "
            "lexical_length = 2 WHERE tenant_id = 'ten_other'"
        )
        own = conn.execute(
            "SELECT count(*) AS n FROM chunks WHERE tenant_id = %s AND fts @@ 'river'::tsquery", (TENANT,)
        ).fetchone()["n"]
    every_store = [store, "vs_other"]
    with db.tenant(TENANT) as conn:
        dfs, _ = chunks.lexical_rarity(conn, TENANT, every_store, "river", 10**9)
        hits, _, _ = chunks.search_chunks_lexical_weighted(conn, TENANT, every_store, "river", 100)
        conn.execute("SELECT set_config('ragstore.tenant_id', '', true)")
        none, _ = chunks.lexical_rarity(conn, TENANT, every_store, "river", 10**9)
    assert dfs == (own,) and none == (0,)
    assert hits and {hit.vector_store_id for hit in hits} == {store}


def test_the_walk_reads_the_text_index_under_row_level_security(database_url, db, store):
    """As the application role, the walk's `@@` still goes through the GIN index (security definer, as 0013)."""
    with as_app(database_url) as conn:
        conn.execute("SELECT set_config('ragstore.tenant_id', %s, false)", (TENANT,))
        before = text_index_scans(conn)
        hits, _, _ = chunks.search_chunks_lexical_weighted(conn, TENANT, [store], "comet stone", 10)
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("SELECT set_config('ragstore.tenant_id', '', false)")
        after = text_index_scans(conn)
    assert hits and after > before
