"""From files of every type to the right passage, through the real pipeline, model and database."""

from __future__ import annotations

import io

import pytest

from ragstore.errors import ConfigurationError, InvalidRequest
from ragstore.ingest.chunk import ChunkingStrategy
from ragstore.models import DEFAULT_TENANT
from ragstore.service import files, search, stores
from tests.support.documents import Document, corpus, long_text
from tests.support.ingesting import ingest


def test_a_paraphrased_question_finds_each_file_type(db, embedder, chunker):
    documents = corpus()
    store, batch = ingest(db, embedder, chunker, documents)
    with db.connection() as conn:
        statuses = conn.execute("SELECT status, count(*) AS n FROM vector_store_files GROUP BY status").fetchall()
    assert statuses == [{"status": "completed", "n": len(documents)}]
    for document in documents:
        best = search.search(db, embedder, DEFAULT_TENANT, [store.id], document.question, k=1)[0]
        assert (best.filename, document.passage in best.text) == (document.filename, True), document.question
        if document.page:
            assert best.page == document.page


def test_html_scripts_are_not_indexed(db, embedder, chunker):
    store, _ = ingest(db, embedder, chunker, [d for d in corpus() if d.filename.endswith(".html")])
    with db.connection() as conn:
        texts = [row["text"] for row in conn.execute("SELECT text FROM chunks").fetchall()]
    assert texts and not any("do not index" in text for text in texts)


def test_json_metadata_becomes_chunk_attributes(db, embedder, chunker):
    ingest(db, embedder, chunker, [d for d in corpus() if d.filename == "gym.json"], attributes={"source": "hr"})
    with db.connection() as conn:
        attributes = conn.execute("SELECT attributes FROM chunks").fetchone()["attributes"]
    assert attributes == {"category": "benefits", "source": "hr"}


def test_bad_files_fail_alone_with_last_error(db, embedder, chunker):
    good = corpus()[0]
    bad = [
        Document("broken.pdf", b"%PDF-1.4 not really", "", ""),
        Document("tool.exe", b"MZ\x90\x00", "", ""),
        Document("empty.txt", b"", "", ""),
    ]
    store, _ = ingest(db, embedder, chunker, [good, *bad])
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT f.filename, v.status, v.last_error_code, v.last_error_message FROM vector_store_files v "
            "JOIN files f ON f.id = v.file_id ORDER BY f.filename"
        ).fetchall()
        chunk_files = {r["file_id"] for r in conn.execute("SELECT DISTINCT file_id FROM chunks").fetchall()}
    by_name = {row["filename"]: row for row in rows}
    assert by_name["coffee.txt"]["status"] == "completed"
    assert [by_name[n]["last_error_code"] for n in ("broken.pdf", "empty.txt", "tool.exe")] == [
        "invalid_file",
        "invalid_file",
        "unsupported_file",
    ]
    assert all(
        by_name[n]["status"] == "failed" and by_name[n]["last_error_message"] for n in ("broken.pdf", "tool.exe")
    )
    assert len(chunk_files) == 1
    assert search.search(db, embedder, DEFAULT_TENANT, [store.id], good.question, k=1)[0].filename == "coffee.txt"


def test_chunks_follow_the_strategy_and_cover_the_text(db, embedder, chunker):
    text = long_text(seed=1, words=1500)
    strategy = ChunkingStrategy(max_tokens=120, overlap_tokens=20)
    ingest(db, embedder, chunker, [Document("long.txt", text, "", "")], strategy=strategy)
    with db.connection() as conn:
        rows = conn.execute("SELECT chunk_index, token_count, text FROM chunks ORDER BY chunk_index").fetchall()
    assert [r["chunk_index"] for r in rows] == list(range(len(rows)))
    assert len(rows) > 10 and all(r["token_count"] <= 120 for r in rows)
    assert rows[0]["text"] == text.decode()[: len(rows[0]["text"])]
    assert text.decode().endswith(rows[-1]["text"])


def test_search_stays_within_the_requested_stores(db, embedder, chunker):
    documents = corpus()
    first, _ = ingest(db, embedder, chunker, documents[:1])
    second, _ = ingest(db, embedder, chunker, documents[1:2], store=stores.create(db, DEFAULT_TENANT, embedder, "b"))
    hits = search.search(db, embedder, DEFAULT_TENANT, [second.id], documents[0].question, k=10)
    assert {hit.vector_store_id for hit in hits} == {second.id}
    both = search.search(db, embedder, DEFAULT_TENANT, [first.id, second.id], documents[0].question, k=10)
    assert {hit.vector_store_id for hit in both} == {first.id, second.id}
    assert both[0].filename == documents[0].filename


def test_scores_are_ordered_in_0_1_and_respect_the_threshold(db, embedder, chunker):
    store, _ = ingest(db, embedder, chunker, corpus())
    hits = search.search(db, embedder, DEFAULT_TENANT, [store.id], "how do I reset my password", k=8)
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    threshold = (scores[0] + scores[1]) / 2
    kept = search.search(
        db, embedder, DEFAULT_TENANT, [store.id], "how do I reset my password", k=8, threshold=threshold
    )
    assert [hit.score for hit in kept] == [s for s in scores if s >= threshold] and len(kept) >= 1


@pytest.mark.parametrize(("k", "threshold"), [(0, 0.0), (101, 0.0), (5, 1.5)])
def test_search_rejects_bad_bounds(db, embedder, k, threshold):
    store = stores.create(db, DEFAULT_TENANT, embedder, "s")
    with pytest.raises(InvalidRequest):
        search.search(db, embedder, DEFAULT_TENANT, [store.id], "q", k=k, threshold=threshold)


def test_a_store_built_with_another_model_is_not_searched(db, embedder):
    with db.connection() as conn:
        conn.execute(
            "INSERT INTO vector_stores (tenant_id, id, embedding_model, embedding_dim) "
            "VALUES ('ten_default', 'vs_other', 'text-embedding-3-small', 384)"
        )
    with pytest.raises(InvalidRequest, match="text-embedding-3-small"):
        search.search(db, embedder, DEFAULT_TENANT, ["vs_other"], "anything")


def test_match_documents_agrees_with_search(db, embedder, chunker):
    store, _ = ingest(db, embedder, chunker, corpus())
    question = "where are staff allowed to park their vehicles?"
    hits = search.search(db, embedder, DEFAULT_TENANT, [store.id], question, k=3)
    vector = "[" + ",".join(f"{x:.7f}" for x in embedder.embed([question])[0]) + "]"
    with db.connection() as conn:
        rows = conn.execute("SELECT id, similarity FROM match_documents(%s, 0.0, 3)", (vector,)).fetchall()
        filtered = conn.execute(
            'SELECT id FROM match_documents(%s, 0.0, 10, NULL, \'{"category": "benefits"}\')', (vector,)
        ).fetchall()
    assert [row["id"] for row in rows] == [hit.chunk_id for hit in hits]
    assert rows[0]["similarity"] == pytest.approx(hits[0].score, abs=1e-3)
    assert len(filtered) == 1


def test_upload_keeps_the_bytes_exactly(db):
    data = bytes(range(256)) * 9000  # several parts
    record = files.upload(db, DEFAULT_TENANT, "blob.bin", io.BytesIO(data))
    assert (record.bytes, files.read_bytes(db, DEFAULT_TENANT, record.id)) == (len(data), data)


def test_the_text_search_language_is_the_store_s(db, embedder, chunker):
    french = Document("ecurie.txt", b"Les chevaux mangent des pommes chaque jeudi.", "", "")
    in_french = stores.create(db, DEFAULT_TENANT, embedder, "fr", language="french")
    in_english = stores.create(db, DEFAULT_TENANT, embedder, "en", language="english")
    for store in (in_french, in_english):
        ingest(db, embedder, chunker, [french], store=store)
    # French stemming makes "chevaux" and "cheval" one word; English stemming does not.
    assert len(search.search(db, embedder, DEFAULT_TENANT, [in_french.id], "cheval", ranker="lexical")) == 1
    assert search.search(db, embedder, DEFAULT_TENANT, [in_english.id], "cheval", ranker="lexical") == []


def test_an_unknown_text_search_language_is_a_clear_error(db):
    with pytest.raises(ConfigurationError, match="klingon"):
        stores.check_language(db, "klingon")
