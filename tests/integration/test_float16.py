"""Online float16: float32 -> halfvec -> rollback round trips on ragstore's own chunks (an older float32 variant of
its schema) and on seed 003's `documents` table, with searches running throughout."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pgvector.psycopg import register_vector

from ragstore.errors import Conflict, InvalidRequest, NotFound
from ragstore.models import DEFAULT_TENANT
from ragstore.service import float16, search
from ragstore.store import chunks
from tests.support.documents import Document, corpus, long_text
from tests.support.ingesting import ingest
from tests.support.synthetic import clustered


def make_float32(db) -> None:
    """ragstore's schema as it would have been with float32 embeddings: vector(384) and vector_cosine_ops."""
    with db.connection() as conn, conn.transaction():
        conn.execute("DROP INDEX chunks_embedding")
        conn.execute("ALTER TABLE chunks ALTER COLUMN embedding TYPE vector(384)")
        conn.execute("CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding vector_cosine_ops)")


def make_documents(db, rows: int = 400, seed: int = 3) -> np.ndarray:
    """Seed 003's layout: documents(id, content, metadata, embedding vector(384)) with an HNSW index."""
    vectors = clustered(np.random.default_rng(seed), rows)
    with db.connection() as conn, conn.transaction():
        register_vector(conn)
        conn.execute(
            "CREATE TABLE documents (id bigserial PRIMARY KEY, content text NOT NULL, metadata jsonb DEFAULT '{}', "
            "embedding vector(384))"
        )
        conn.execute(
            "CREATE INDEX documents_embedding_hnsw_idx ON documents USING hnsw (embedding vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
        with conn.cursor().copy("COPY documents (content, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["text", "vector"])
            for i, vector in enumerate(vectors):
                copy.write_row((f"document {i}", vector))
        conn.execute("INSERT INTO documents (content) VALUES ('a document not embedded yet')")
    return vectors


def load_chunks(db, tenants: int = 3, rows: int = 60, seed: int = 5) -> None:
    """Synthetic chunks for several tenants (so several partitions) of the float32 variant, straight into the tables."""
    rng = np.random.default_rng(seed)
    with db.connection() as conn, conn.transaction():
        register_vector(conn)
        for t in range(tenants):
            tenant, store_id, file_id = f"ten_{t}", f"vs_{t}", f"file-{t}"
            conn.execute("INSERT INTO tenants (id, name) VALUES (%s, %s)", (tenant, tenant))
            conn.execute(
                "INSERT INTO files (tenant_id, id, filename, purpose, bytes, sha256) "
                "VALUES (%s, %s, 'synthetic.txt', 'assistants', 0, '')",
                (tenant, file_id),
            )
            conn.execute(
                "INSERT INTO vector_stores (tenant_id, id, embedding_model, embedding_dim) "
                "VALUES (%s, %s, 'all-MiniLM-L6-v2', 384)",
                (tenant, store_id),
            )
            conn.execute(
                "INSERT INTO vector_store_files (tenant_id, vector_store_id, file_id, status, chunk_size_tokens, "
                "chunk_overlap_tokens, chunk_count) VALUES (%s, %s, %s, 'completed', 250, 50, %s)",
                (tenant, store_id, file_id, rows),
            )
            with conn.cursor().copy(
                "COPY chunks (tenant_id, vector_store_id, file_id, chunk_index, text, token_count, content_hash, "
                "embedding) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["text", "text", "text", "int4", "text", "int4", "text", "vector"])
                for i, vector in enumerate(clustered(rng, rows)):
                    copy.write_row((tenant, store_id, file_id, i, f"chunk {i}", 1, "", vector))


def values(db, table: str = "chunks", column: str = "embedding") -> dict[int, bytes]:
    """Each row's vector in its binary wire form: equal bytes, equal floats, bit for bit."""
    send = "vector_send" if column_type(db, table, column).startswith("vector") else "halfvec_send"
    with db.connection() as conn:
        rows = conn.execute(f"SELECT id, {send}({column}) AS v FROM {table}").fetchall()
    return {row["id"]: row["v"] for row in rows}


def column_type(db, table: str, column: str) -> str | None:
    with db.connection() as conn:
        row = conn.execute(
            "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = %s AND NOT attisdropped",
            (table, column),
        ).fetchone()
    return row and row["t"]


def index_shapes(db, table: str) -> list[tuple[str, str, bool, str]]:
    """(index, operator class, valid, options) of every vector index under the table, partitions included."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT c.relname, o.opcname, i.indisvalid, coalesce(c.reloptions::text, '') AS options "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_opclass o ON o.oid = i.indclass[0] "
            "JOIN pg_am a ON a.oid = c.relam "
            "WHERE a.amname = 'hnsw' AND i.indrelid IN "
            "(SELECT %s::regclass UNION SELECT relid FROM pg_partition_tree(%s::regclass)) ORDER BY 1",
            (table, table),
        ).fetchall()
    return [(r["relname"], r["opcname"], r["indisvalid"], r["options"]) for r in rows]


def leftovers(db, table: str) -> list[str]:
    """Columns, triggers and functions the conversion leaves behind."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT attname AS name FROM pg_attribute WHERE attrelid = %s::regclass AND attname LIKE '%%float%%' "
            "AND NOT attisdropped UNION ALL SELECT tgname FROM pg_trigger WHERE tgname LIKE 'float16%%' "
            "UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'float16%%'",
            (table,),
        ).fetchall()
    return sorted(row["name"] for row in rows)


def ingest_corpus(db, embedder, chunker, *, more: bool = True):
    """The corpus in one store and (more) a long text in another: enough rows for the indexes' sizes to differ."""
    documents = corpus()
    store, _ = ingest(db, embedder, chunker, documents)
    if more:
        ingest(db, embedder, chunker, [Document("long.txt", long_text(seed=7, words=2000), "", "")])
    return store, documents


def assert_finds_each_passage(db, embedder, store, documents) -> None:
    for document in documents:
        best = search.search(db, embedder, DEFAULT_TENANT, [store.id], document.question, k=1)[0]
        assert (best.filename, document.passage in best.text) == (document.filename, True), document.question
    # The HNSW path too (small stores are searched exactly).
    question = documents[1].question
    with db.tenant(DEFAULT_TENANT) as conn:
        hits = chunks.search_chunks(conn, DEFAULT_TENANT, [store.id], embedder.embed([question])[0], 3, 0.0)
    assert hits and hits[0].filename == documents[1].filename
    vector = "[" + ",".join(f"{x:.7f}" for x in embedder.embed([question])[0]) + "]"
    with db.connection() as conn:
        row = conn.execute("SELECT file_id FROM match_documents(%s, 0.0, 1, %s)", (vector, [store.id])).fetchone()
    assert row["file_id"] == hits[0].file_id


def test_ragstore_float32_schema_converts_rolls_back_exactly_and_converts_again(db, embedder, chunker):
    make_float32(db)
    store, documents = ingest_corpus(db, embedder, chunker)
    original = values(db)
    assert len(original) > 15 and float16.status(db).state == "float32"

    report = float16.convert(db, options=float16.Options(batch_size=7))
    assert (report.before.column_type, report.after.column_type) == ("vector(384)", "halfvec(384)")
    assert report.rows_copied == len(original) and report.backup == "embedding_float32"
    assert report.queries == min(50, len(original)) and report.ef_search == chunks.EF_SEARCH
    assert report.before.recall_index >= 0.95 and report.after.recall_index >= 0.95
    assert report.after.recall_exact >= 0.95
    assert report.after.index_bytes < report.before.index_bytes
    assert report.swap_lock_ms > 0
    assert column_type(db, "chunks", "embedding") == "halfvec(384)"
    shapes = index_shapes(db, "chunks")
    assert len(shapes) == 17 and {(s[1], s[2]) for s in shapes} == {("halfvec_cosine_ops", True)}
    assert "chunks_embedding" in {s[0] for s in shapes}
    status = float16.status(db)
    assert (status.state, status.backup, status.copied, status.rows) == (
        "converted", "embedding_float32", len(original), len(original),
    )  # fmt: skip
    assert_finds_each_passage(db, embedder, store, documents)

    back = float16.rollback(db)
    assert (back.before.column_type, back.after.column_type) == ("halfvec(384)", "vector(384)")
    assert column_type(db, "chunks", "embedding") == "vector(384)"
    assert values(db) == original
    assert {(s[1], s[2]) for s in index_shapes(db, "chunks")} == {("vector_cosine_ops", True)}
    assert leftovers(db, "chunks") == []
    assert_finds_each_passage(db, embedder, store, documents)  # ragstore still searches a float32 column

    again = float16.convert(db)
    assert again.after.column_type == "halfvec(384)" and float16.status(db).state == "converted"
    assert_finds_each_passage(db, embedder, store, documents)


def test_seed_003_documents_round_trip_with_options_kept(db):
    vectors = make_documents(db)
    original = values(db, "documents")
    shape = index_shapes(db, "documents")
    assert shape == [("documents_embedding_hnsw_idx", "vector_cosine_ops", True, "{m=16,ef_construction=64}")]

    report = float16.convert(db, "documents", "embedding", options=float16.Options(queries=50))
    assert report.rows_copied == len(vectors) and report.queries == 50
    assert report.after.recall_index >= 0.95 and report.after.recall_exact >= 0.95
    assert report.after.index_bytes < 0.7 * report.before.index_bytes
    assert index_shapes(db, "documents") == [
        ("documents_embedding_hnsw_idx", "halfvec_cosine_ops", True, "{m=16,ef_construction=64}")
    ]
    with db.connection() as conn:
        rounded = conn.execute(
            "SELECT count(*) FILTER (WHERE embedding IS NOT DISTINCT FROM embedding_float32::halfvec) AS same, "
            "count(*) AS n FROM documents"
        ).fetchone()
        assert rounded["same"] == rounded["n"] == len(vectors) + 1
        # After the conversion: an update that leaves the vector alone keeps the exact float32 backup; a new
        # row gets one (its halfvec value, widened).
        conn.execute("UPDATE documents SET metadata = '{\"seen\": true}' WHERE id <= 10")
        conn.execute(
            "INSERT INTO documents (id, content, embedding) VALUES (100000, 'new', %s::halfvec)",
            ("[" + ",".join(["0.5"] * 4 + ["0"] * 380) + "]",),
        )

    float16.rollback(db, "documents", "embedding")
    assert column_type(db, "documents", "embedding") == "vector(384)"
    restored = values(db, "documents")
    assert restored.pop(100000) == values_of(db, "[" + ",".join(["0.5"] * 4 + ["0"] * 380) + "]")
    assert restored == original
    assert index_shapes(db, "documents") == shape and leftovers(db, "documents") == []

    float16.convert(db, "documents", "embedding")
    assert float16.finalize(db, "documents", "embedding") == "embedding_float32"
    assert column_type(db, "documents", "embedding") == "halfvec(384)" and leftovers(db, "documents") == []
    with pytest.raises(NotFound, match="no float32 backup"):
        float16.rollback(db, "documents", "embedding")


def values_of(db, text: str) -> bytes:
    with db.connection() as conn:
        return conn.execute("SELECT vector_send(%s::vector) AS v", (text,)).fetchone()["v"]


def test_searches_and_ingestion_keep_working_during_conversion_and_rollback(db, embedder, chunker):
    make_float32(db)
    store, documents = ingest_corpus(db, embedder, chunker, more=False)
    done, stop, lock = [], threading.Event(), threading.Lock()
    failures: list[BaseException] = []
    added = [
        Document("bikes.txt", b"Bicycles are stored in the shed behind building C.", "", ""),
        Document("canteen.txt", b"The canteen serves a vegetarian dish every day.", "", ""),
    ]

    def searching() -> None:
        i = 0
        while not stop.is_set():
            document = documents[i % len(documents)]
            try:
                hits = search.search(db, embedder, DEFAULT_TENANT, [store.id], document.question, k=3, ranker="dense")
                with db.tenant(DEFAULT_TENANT) as conn:
                    walked = chunks.search_chunks(
                        conn, DEFAULT_TENANT, [store.id], embedder.embed([document.question])[0], 3, 0.0
                    )
                assert hits and walked, document.question
            except BaseException as exc:  # noqa: BLE001 - every failure is the test's business
                failures.append(exc)
            with lock:
                done.append(i)
            i += 1

    def wait_for_searches(stage: str, finished: int, total: int) -> None:
        """Let at least two searches run at every step of the work (copy batches, each index built); ingest a
        file (as the application role, through the trigger) while the indexes are being built."""
        if stage == "index" and finished == 0 and len(added) == 2:
            ingest(db, embedder, chunker, [added.pop(0)], store=store)
        with lock:
            target = len(done) + 2
        while len(done) < target and not failures and not stop.wait(0.01):
            pass

    thread = threading.Thread(target=searching, daemon=True)
    thread.start()
    try:
        float16.convert(db, options=float16.Options(batch_size=10, progress=wait_for_searches))
        during_convert = len(done)
        ingest(db, embedder, chunker, [added.pop(0)], store=store)  # converted: the backup follows new rows
        back = float16.rollback(db, options=float16.Options(progress=wait_for_searches))
    finally:
        stop.set()
        thread.join(timeout=60)
    assert failures == []
    assert during_convert >= 10 and len(done) > during_convert
    assert back.rows_copied == 0  # every row written during and after the conversion had its float32 copy
    with db.connection() as conn:
        new = conn.execute(
            "SELECT count(*) AS n, count(c.embedding) AS embedded FROM chunks c JOIN files f "
            "ON f.tenant_id = c.tenant_id AND f.id = c.file_id WHERE f.filename IN ('bikes.txt', 'canteen.txt')"
        ).fetchone()
    assert new == {"n": 2, "embedded": 2}
    best = search.search(db, embedder, DEFAULT_TENANT, [store.id], "where can I leave my bicycle?", k=1)[0]
    assert best.filename == "bikes.txt"


def test_an_interrupted_conversion_resumes_or_is_abandoned(db):
    make_documents(db, rows=300)
    original = values(db, "documents")

    def interrupt(stage: str, finished: int, total: int) -> None:
        if stage == "copy" and finished >= 100:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        float16.convert(db, "documents", "embedding", options=float16.Options(batch_size=50, progress=interrupt))
    status = float16.status(db, "documents", "embedding")
    assert (status.state, status.type_text, status.rows) == ("converting", "vector(384)", 300)
    assert 100 <= status.copied < 300

    float16.rollback(db, "documents", "embedding")  # before the swap: abandons
    assert float16.status(db, "documents", "embedding").state == "float32"
    assert leftovers(db, "documents") == [] and values(db, "documents") == original

    with pytest.raises(KeyboardInterrupt):
        float16.convert(db, "documents", "embedding", options=float16.Options(batch_size=50, progress=interrupt))
    with db.connection() as conn:  # written while the conversion is half done: the trigger copies it
        conn.execute("UPDATE documents SET embedding = embedding_float16 WHERE id = 1")
        conn.execute(
            "INSERT INTO documents (id, content, embedding) SELECT 5000, 'new', embedding FROM documents WHERE id = 2"
        )
    report = float16.convert(db, "documents", "embedding", options=float16.Options(batch_size=50))
    assert report.rows_copied < 300 and report.after.column_type == "halfvec(384)"
    with db.connection() as conn:
        same = conn.execute(
            "SELECT bool_and(embedding IS NOT DISTINCT FROM embedding_float32::halfvec) AS ok FROM documents"
        ).fetchone()
    assert same["ok"]


def test_an_interrupted_index_build_resumes_partition_by_partition(db):
    make_float32(db)
    load_chunks(db)
    original = values(db)

    def interrupt(stage: str, finished: int, total: int) -> None:
        if stage == "index" and finished == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        float16.convert(db, options=float16.Options(progress=interrupt))
    status = float16.status(db)
    assert (status.state, status.copied, status.rows) == ("converting", len(original), len(original))
    assert len(status.building) == 1  # the parent's own index, attached to nothing yet
    with db.connection() as conn:  # as a CREATE INDEX CONCURRENTLY that failed half-way leaves its index
        conn.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
            "(SELECT indexrelid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            " WHERE c.relname LIKE '%%_f16' AND c.relkind = 'i' ORDER BY c.relname LIMIT 1)"
        )
    report = float16.convert(db)
    assert report.rows_copied == 0 and report.after.recall_index >= 0.95
    assert {(s[1], s[2]) for s in index_shapes(db, "chunks")} == {("halfvec_cosine_ops", True)}
    assert len(index_shapes(db, "chunks")) == 17
    float16.rollback(db)
    assert values(db) == original


def test_clear_errors(db):
    with pytest.raises(InvalidRequest, match=r"chunks\.embedding is already halfvec\(384\)"):
        float16.convert(db)
    with pytest.raises(NotFound, match="no float32 backup of chunks.embedding"):
        float16.rollback(db)
    with pytest.raises(NotFound, match="no table nowhere"):
        float16.convert(db, "nowhere", "embedding")
    with pytest.raises(NotFound, match="no column vec"):
        float16.status(db, "chunks", "vec")
    with pytest.raises(InvalidRequest, match="text, not a pgvector vector column"):
        float16.convert(db, "chunks", "text")
    make_documents(db, rows=20)
    with pytest.raises(NotFound, match="was never converted: it has no float32 backup"):
        float16.rollback(db, "documents", "embedding")
    with pytest.raises(NotFound, match="was never converted"):
        float16.finalize(db, "documents", "embedding")
    with db.connection() as conn:
        conn.execute("CREATE VIEW embedded AS SELECT id, embedding FROM documents")
        with pytest.raises(InvalidRequest, match="view embedded"):
            float16.convert(db, "documents", "embedding")
        conn.execute("DROP VIEW embedded")
        conn.execute("SELECT pg_advisory_lock(hashtext('ragstore.float16'), hashtext('documents.embedding'))")
        with pytest.raises(Conflict, match="Another float16 operation"):
            float16.convert(db, "documents", "embedding")
        conn.execute("SELECT pg_advisory_unlock(hashtext('ragstore.float16'), hashtext('documents.embedding'))")
    assert float16.status(db, "documents", "embedding").state == "float32"
