"""HNSW build parameters: every index ragstore builds has m = spaces.HNSW_M and ef_construction =
spaces.HNSW_EF_CONSTRUCTION, on a new database, for a new space, and after migration 0014 upgrades a database
holding data (its searches unchanged); float16's rebuilds keep an index's options."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row

from ragstore.models import EmbeddingSpace
from ragstore.service import float16
from ragstore.store import chunks, migrate, spaces
from ragstore.store.db import Database
from tests.support.synthetic import clustered, load_store

OPTIONS = f"{{m={spaces.HNSW_M},ef_construction={spaces.HNSW_EF_CONSTRUCTION}}}"
BEFORE = 13  # the last migration before the parameters changed
TENANTS = ("ten_a", "ten_b")


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, row_factory=dict_row)


def migrate_to(url: str, last: int | None, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Apply the migrations up to `last` (all of them when last is None); the versions applied."""
    shipped = migrate.available()
    with monkeypatch.context() as patch:
        patch.setattr(migrate, "available", lambda: [m for m in shipped if last is None or m.version <= last])
        with connect(url) as conn:
            return [m.version for m in migrate.apply(conn)]


def tree_options(conn: psycopg.Connection, index: str) -> dict[str, tuple[str, str | None, bool]]:
    """Each index of the tree under `index` (itself included): (its table, its reloptions, valid)."""
    rows = conn.execute(
        "SELECT c.relname AS name, t.relname AS on_table, c.reloptions::text AS options, i.indisvalid AS valid "
        "FROM pg_partition_tree(%s::regclass) p JOIN pg_class c ON c.oid = p.relid "
        "JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_class t ON t.oid = i.indrelid",
        (index,),
    ).fetchall()
    return {r["name"]: (r["on_table"], r["options"], r["valid"]) for r in rows}


def options_of(conn: psycopg.Connection, index: str) -> str | None:
    return conn.execute("SELECT reloptions::text AS o FROM pg_class WHERE relname = %s", (index,)).fetchone()["o"]


def space_of(store_id: str, dimension: int) -> EmbeddingSpace:
    return EmbeddingSpace(
        id=f"emb_{store_id}", vector_store_id=store_id, model="small-model", dimension=dimension, base_url=None,
        api_key_env=None, location="vectors", state="ready", created_at=datetime.now(UTC),
    )  # fmt: skip


def insert_space_before(conn: psycopg.Connection, tenant: str, space: EmbeddingSpace) -> None:
    """The space's row as the schema of migration BEFORE holds it (store code of today writes later columns too)."""
    conn.execute(
        "INSERT INTO embedding_spaces (tenant_id, id, vector_store_id, model, dimension, base_url, api_key_env, "
        "location, state) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (tenant, space.id, space.vector_store_id, space.model, space.dimension, space.base_url, space.api_key_env,
         space.location, space.state),
    )  # fmt: skip


def test_a_new_database_builds_chunks_embedding_with_ragstore_parameters_on_every_partition(database_url):
    with connect(database_url) as conn:
        tree = tree_options(conn, "chunks_embedding")
    assert len(tree) == 17  # the parent and its 16 partitions' indexes
    assert {options for _, options, _ in tree.values()} == {OPTIONS}
    # Each partition's index kept the name PostgreSQL gave it first.
    assert {name for name, (table, _, _) in tree.items() if name != "chunks_embedding"} == {
        f"chunks_p{i:02d}_embedding_idx" for i in range(16)
    }


def test_a_new_space_index_has_ragstore_parameters(db):
    with db.connection() as conn:
        load_store(conn, "ten_a", "vs_a", clustered(np.random.default_rng(1), 20))
        space = space_of("vs_a", 8)
        insert_space_before(conn, "ten_a", space)
        spaces.create_index(conn, space)
        assert options_of(conn, spaces.index_name(space.id)) == OPTIONS


def test_a_space_index_is_built_with_the_memory_its_graph_needs(database_url):
    """At maintenance_work_mem 1MB, 1,500 vectors overflow the graph (a NOTICE says so): the build raises it for
    itself, and the session has 1MB again afterwards."""
    with connect(database_url) as conn:
        register_vector(conn)
        load_store(conn, "ten_a", "vs_a", clustered(np.random.default_rng(1), 1500))
        space = space_of("vs_a", 8)
        insert_space_before(conn, "ten_a", space)
        ids = [r["id"] for r in conn.execute("SELECT id FROM chunks ORDER BY chunk_index")]
        spaces.insert_vectors(conn, "ten_a", space.id, ids, small_vectors(len(ids)))
        notices: list[str] = []
        conn.add_notice_handler(lambda notice: notices.append(notice.message_primary))
        conn.execute("SET maintenance_work_mem = '1MB'")
        spaces.create_index(conn, space)
        assert not [n for n in notices if "no longer fits" in n]
        assert conn.execute("SHOW maintenance_work_mem").fetchone()["maintenance_work_mem"] == "1MB"
        conn.execute(
            "CREATE INDEX overflowing ON chunk_vectors USING hnsw ((embedding::halfvec(8)) halfvec_cosine_ops) "
            f"WITH (m = {spaces.HNSW_M}, ef_construction = {spaces.HNSW_EF_CONSTRUCTION})"
        )
    assert [n for n in notices if "no longer fits" in n]


# -- upgrading a database made at migration 0013 ----------------------------------------------------------------------


@pytest.fixture
def old_database(empty_database_url, monkeypatch) -> Iterator[str]:
    """A database at migration 0013 with two tenants' chunks (two partitions), and a store's second space with the
    index 0013's code built (no options)."""
    assert migrate_to(empty_database_url, BEFORE, monkeypatch)[-1] == BEFORE
    rng = np.random.default_rng(7)
    with connect(empty_database_url) as conn:
        register_vector(conn)
        for tenant in TENANTS:
            load_store(conn, tenant, f"vs_{tenant}", clustered(rng, 400))
        space = space_of("vs_ten_a", 8)
        insert_space_before(conn, "ten_a", space)
        ids = [r["id"] for r in conn.execute("SELECT id FROM chunks WHERE tenant_id = 'ten_a' ORDER BY chunk_index")]
        spaces.insert_vectors(conn, "ten_a", space.id, ids, small_vectors(len(ids)))
        conn.execute(
            f"CREATE INDEX CONCURRENTLY {spaces.index_name(space.id)} ON chunk_vectors "
            f"USING hnsw ((embedding::halfvec(8)) halfvec_cosine_ops) WHERE space_id = '{space.id}'"
        )
    yield empty_database_url


def small_vectors(n: int) -> np.ndarray:
    vectors = np.random.default_rng(11).standard_normal((n, 8)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def searches(url: str) -> dict[str, list[list[int]]]:
    """Through the HNSW indexes: each tenant's store by chunks.embedding, and ten_a's store by its second space;
    ten queries each, every hit as its chunk_index."""
    found: dict[str, list[list[int]]] = {}
    rng = np.random.default_rng(3)
    database = Database(url, pool_size=1)
    database.pool.open(wait=True)
    try:
        for tenant, space, queries in [
            ("ten_a", None, clustered(rng, 10)),
            ("ten_b", None, clustered(rng, 10)),
            ("ten_a", space_of("vs_ten_a", 8), small_vectors(30)[20:]),
        ]:
            key = f"{tenant}/{'space' if space else 'chunks'}"
            found[key] = []
            for query in queries:
                with database.tenant(tenant) as conn:
                    conn.execute("SET LOCAL enable_seqscan = off")  # the index, however small the table
                    hits = chunks.search_chunks(conn, tenant, [f"vs_{tenant}"], query, 10, -1.0, space=space)
                found[key].append([hit.chunk_index for hit in hits])
    finally:
        database.close()
    return found


def test_migration_0014_rebuilds_every_index_and_searches_find_the_same(old_database, monkeypatch):
    with connect(old_database) as conn:
        before_tree = tree_options(conn, "chunks_embedding")
        assert {options for _, options, _ in before_tree.values()} == {None}
    before = searches(old_database)
    assert all(len(hits) == 10 for found in before.values() for hits in found)

    assert migrate_to(old_database, None, monkeypatch)[0] == 14  # 0014 first, then any later ones

    with connect(old_database) as conn:
        after_tree = tree_options(conn, "chunks_embedding")
        space_index = spaces.index_name(space_of("vs_ten_a", 8).id)
        assert options_of(conn, space_index) == OPTIONS
        leftovers = conn.execute("SELECT relname FROM pg_class WHERE relname LIKE '%%rebuilt%%'").fetchall()
    assert {name: table for name, (table, _, _) in after_tree.items()} == {
        name: table for name, (table, _, _) in before_tree.items()
    }
    assert {(options, valid) for _, options, valid in after_tree.values()} == {(OPTIONS, True)}
    assert leftovers == []
    assert searches(old_database) == before


def test_an_index_rebuilt_before_the_upgrade_without_blocking_writes_is_kept(old_database, monkeypatch):
    """The migration's recipe for large databases: each partition's index CONCURRENTLY, attached under a new parent."""
    definition = (
        f"USING hnsw (embedding halfvec_cosine_ops) WITH (m = {spaces.HNSW_M}, "
        f"ef_construction = {spaces.HNSW_EF_CONSTRUCTION})"
    )
    with connect(old_database) as conn:
        leaves = conn.execute("SELECT relid::regclass::text AS p FROM pg_partition_tree('chunks') WHERE isleaf")
        partitions = [row["p"] for row in leaves]
        for partition in partitions:
            conn.execute(f"CREATE INDEX CONCURRENTLY {partition}_embedding_m24 ON {partition} {definition}")
        with conn.transaction():
            conn.execute(f"CREATE INDEX chunks_embedding_m24 ON ONLY chunks {definition}")
            for partition in partitions:
                conn.execute(f"ALTER INDEX chunks_embedding_m24 ATTACH PARTITION {partition}_embedding_m24")
            conn.execute("DROP INDEX chunks_embedding")
            conn.execute("ALTER INDEX chunks_embedding_m24 RENAME TO chunks_embedding")
        prebuilt = conn.execute("SELECT 'chunks_embedding'::regclass::oid AS o").fetchone()["o"]

    assert migrate_to(old_database, None, monkeypatch)[0] == 14  # 0014 first, then any later ones

    with connect(old_database) as conn:
        assert conn.execute("SELECT 'chunks_embedding'::regclass::oid AS o").fetchone()["o"] == prebuilt
        tree = tree_options(conn, "chunks_embedding")
    assert len(tree) == 17 and {(options, valid) for _, options, valid in tree.values()} == {(OPTIONS, True)}


def test_the_rebuild_raises_maintenance_work_mem_for_the_largest_partition_graph(empty_database_url, monkeypatch):
    """pgvector builds fast only while the graph fits maintenance_work_mem: at 1MB, 1,500 vectors in one partition
    would overflow it (a NOTICE says so); the migration raises it for its own transaction."""
    migrate_to(empty_database_url, BEFORE, monkeypatch)
    with connect(empty_database_url) as conn:
        register_vector(conn)
        load_store(conn, "ten_a", "vs_a", clustered(np.random.default_rng(2), 1500))
        notices: list[str] = []
        conn.add_notice_handler(lambda notice: notices.append(notice.message_primary))
        conn.execute("SET maintenance_work_mem = '1MB'")
        assert [m.version for m in migrate.apply(conn)][0] == 14  # 0014 first, then any later ones
        assert not [n for n in notices if "no longer fits" in n]
        assert conn.execute("SHOW maintenance_work_mem").fetchone()["maintenance_work_mem"] == "1MB"
        # The same build without the raise: the graph overflows.
        partition = conn.execute("SELECT tableoid::regclass::text AS p FROM chunks LIMIT 1").fetchone()["p"]
        conn.execute(
            f"CREATE INDEX overflowing ON {partition} USING hnsw (embedding halfvec_cosine_ops) "
            f"WITH (m = {spaces.HNSW_M}, ef_construction = {spaces.HNSW_EF_CONSTRUCTION})"
        )
    assert [n for n in notices if "no longer fits" in n]


# -- float16's rebuilds ------------------------------------------------------------------------------------------------


def test_float16_rebuilds_keep_the_options_of_every_partition_index(db):
    """A float32 variant of chunks whose index has ragstore's options: converted to halfvec and back, every index
    of the tree (parent and partitions) is built again with them."""
    with db.connection() as conn:
        rng = np.random.default_rng(5)
        for tenant in TENANTS:
            load_store(conn, tenant, f"vs_{tenant}", clustered(rng, 50))
    with db.connection() as conn, conn.transaction():
        conn.execute("DROP INDEX chunks_embedding")
        conn.execute("ALTER TABLE chunks ALTER COLUMN embedding TYPE vector(384) USING embedding::vector(384)")
        conn.execute(
            "CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding vector_cosine_ops) "
            f"WITH (m = {spaces.HNSW_M}, ef_construction = {spaces.HNSW_EF_CONSTRUCTION})"
        )
    float16.convert(db, options=float16.Options(queries=10))
    with db.connection() as conn:
        converted = tree_options(conn, "chunks_embedding"), opclasses(conn, "chunks_embedding")
    float16.rollback(db)
    with db.connection() as conn:
        rolled_back = tree_options(conn, "chunks_embedding"), opclasses(conn, "chunks_embedding")
    for (tree, classes), opclass in [(converted, "halfvec_cosine_ops"), (rolled_back, "vector_cosine_ops")]:
        assert classes == {opclass}  # built again, for the column's new type
        assert len(tree) == 17 and {(options, valid) for _, options, valid in tree.values()} == {(OPTIONS, True)}


def opclasses(conn: psycopg.Connection, index: str) -> set[str]:
    rows = conn.execute(
        "SELECT o.opcname FROM pg_partition_tree(%s::regclass) p JOIN pg_index i ON i.indexrelid = p.relid "
        "JOIN pg_opclass o ON o.oid = i.indclass[0]",
        (index,),
    ).fetchall()
    return {row["opcname"] for row in rows}
