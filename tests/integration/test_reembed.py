"""Re-embedding a store online: another model of another dimension (a stand-in speaking OpenAI's /embeddings over
real HTTP), built beside the old one while searches go on, compared, switched to, rolled back, and dropped."""

from __future__ import annotations

import threading

import numpy as np
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from ragstore.errors import EmbeddingError, InvalidRequest
from ragstore.models import DEFAULT_TENANT
from ragstore.service import reembed, search, spaces
from ragstore.store import chunks
from ragstore.store import spaces as space_store
from ragstore.store.queries import QUERIES
from tests.support.documents import Document, corpus, long_text
from tests.support.embeddings_server import embeddings_server
from tests.support.ingesting import ingest

LATE = Document(
    "canteen.txt",
    b"The canteen on the third floor serves vegetarian lunches every weekday from noon.",
    "where can I get a meat-free meal at midday?",
    "vegetarian lunches",
)


class Searcher(threading.Thread):
    """Searches every corpus question over and over until stopped; keeps every error and every empty result."""

    def __init__(self, db, embedder, store_id: str) -> None:
        super().__init__(daemon=True)
        self.db, self.embedder, self.store_id = db, embedder, store_id
        self.stop = threading.Event()
        self.searches, self.failures = 0, []
        self.counted = threading.Condition()

    def settle(self) -> None:
        """Return once a search that began after this call has ended: none still runs on what came before."""
        with self.counted:
            target = self.searches + 2  # the one in flight, if any, then one that began after this call
            if not self.counted.wait_for(lambda: self.searches >= target or not self.is_alive(), timeout=120):
                raise AssertionError("the searcher made no progress")

    def run(self) -> None:
        questions = [d.question for d in corpus()]
        while not self.stop.is_set():
            for question in questions:
                try:
                    hits = search.search(self.db, self.embedder, DEFAULT_TENANT, [self.store_id], question, k=3)
                    if not hits:
                        self.failures.append(f"no results for {question!r}")
                except Exception as exc:  # noqa: BLE001 - every failure is the finding
                    self.failures.append(repr(exc))
                with self.counted:
                    self.searches += 1
                    self.counted.notify_all()


def best_files(db, embedder, store_id: str, ranker: str = "dense") -> list[str]:
    return [
        search.search(db, embedder, DEFAULT_TENANT, [store_id], d.question, k=1, ranker=ranker)[0].filename
        for d in corpus()
    ]


def test_switch_and_rollback_while_searches_keep_succeeding(db, embedder, chunker, database_url):
    documents = corpus()
    store, _ = ingest(db, embedder, chunker, [*documents, Document("long.txt", long_text(3, 3000), "", "")])
    assert best_files(db, embedder, store.id) == [d.filename for d in documents]
    searcher = Searcher(db, embedder, store.id)
    searcher.start()
    with embeddings_server(embedder) as remote:
        target = reembed.NewModel(remote.model, remote.dimension, remote.url)
        space = reembed.start(db, DEFAULT_TENANT, store.id, target, embedder)
        assert reembed.start(db, DEFAULT_TENANT, store.id, target, embedder).id == space.id  # resumed, not doubled
        # A file ingested while the space is being built is written to both spaces.
        ingest(db, embedder, chunker, [LATE], store=store)
        remote_embedder = spaces.embedder_for(embedder, remote.model, remote.dimension, space)
        built = reembed.build(db, DEFAULT_TENANT, space, remote_embedder, chunker)
        states = {row["model"]: (row["state"], row["missing"]) for row in reembed.status(db, DEFAULT_TENANT, store.id)}
        assert states == {embedder.model: ("active", 0), remote.model: ("ready", 0)}
        with db.connection() as conn:
            total = conn.execute("SELECT count(*) AS n FROM chunks WHERE vector_store_id = %s", (store.id,)).fetchone()
            late = conn.execute(
                "SELECT count(*) AS n FROM chunks WHERE vector_store_id = %s AND text LIKE '%%canteen%%'", (store.id,)
            ).fetchone()
        assert 0 < built == total["n"] - late["n"]  # the late file's chunks were written by its ingestion

        found = reembed.report(db, DEFAULT_TENANT, store.id, embedder, sample=20)
        assert found["candidate"] == {"model": remote.model, "dimension": 512, "state": "ready"}
        assert found["queries"] > 5 and 0.5 <= found["overlap@10"] <= 1.0

        # Switch: the store is searched in the new space, with the remote model embedding the queries.
        before = len(remote.requests)
        assert reembed.switch(db, DEFAULT_TENANT, store.id).model == remote.model
        assert best_files(db, embedder, store.id) == [d.filename for d in documents]
        assert best_files(db, embedder, store.id, "hybrid") == [d.filename for d in documents]
        assert len(remote.requests) >= before + len(documents)
        switched = search.search(db, embedder, DEFAULT_TENANT, [store.id], LATE.question, k=1)[0]
        assert switched.filename == LATE.filename

        # Rollback: the local model again, and no remote call for a search.
        assert reembed.rollback(db, DEFAULT_TENANT, store.id).model == embedder.model
        searcher.settle()  # a background search begun before the rollback may still embed its query remotely
        before = len(remote.requests)
        assert best_files(db, embedder, store.id) == [d.filename for d in documents]
        assert len(remote.requests) == before

        # Switch again, drop the old space: no way back, and searches and ingestion go on in the new space.
        reembed.switch(db, DEFAULT_TENANT, store.id)
        assert [s.model for s in reembed.drop(db, DEFAULT_TENANT, store.id)] == [embedder.model]
        with pytest.raises(InvalidRequest, match="nothing to roll back to"):
            reembed.rollback(db, DEFAULT_TENANT, store.id)
        with db.connection() as conn:
            kept = conn.execute(
                "SELECT count(*) FILTER (WHERE embedding IS NOT NULL) AS n FROM chunks WHERE vector_store_id = %s",
                (store.id,),
            ).fetchone()
        assert kept["n"] == 0
        ingest(
            db,
            embedder,
            chunker,
            [
                Document(
                    "extra.txt",
                    b"Access badges are renewed every January at the reception desk.",
                    "when do I renew my access card?",
                    "Badges",
                )
            ],
            store=store,
        )
        extra = search.search(db, embedder, DEFAULT_TENANT, [store.id], "when do I renew my access card?", k=1)[0]
        assert extra.filename == "extra.txt"
        searcher.stop.set()
        searcher.join(60)
    assert searcher.searches > 0 and searcher.failures == []


def test_the_space_index_serves_the_ordering(db, embedder, chunker, database_url):
    store, _ = ingest(db, embedder, chunker, corpus())
    with embeddings_server(embedder) as remote:
        target = reembed.NewModel(remote.model, remote.dimension, remote.url)
        space = reembed.start(db, DEFAULT_TENANT, store.id, target, embedder)
        reembed.build(db, DEFAULT_TENANT, space, spaces.embedder_for(embedder, remote.model, 512, space), chunker)
    query = sql.SQL(QUERIES["search_chunks"]).format(filter=sql.SQL("TRUE"), **chunks.vector_source(space))
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        from pgvector.psycopg import register_vector

        register_vector(conn)
        conn.execute("SET enable_seqscan = off")
        params = {
            "tenant_id": DEFAULT_TENANT,
            "store_ids": [store.id],
            "embedding": np.ones(512, dtype=np.float32),
            "limit": 5,
            "threshold": 0.0,
        }
        from pgvector import HalfVector

        params["embedding"] = HalfVector(params["embedding"])
        plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(sql.SQL("EXPLAIN ") + query, params))
    assert space_store.index_name(space.id) in plan, plan


def test_clear_errors(db, embedder, chunker):
    store, _ = ingest(db, embedder, chunker, corpus()[:2])
    with pytest.raises(InvalidRequest, match="no re-embedding ready"):
        reembed.switch(db, DEFAULT_TENANT, store.id)
    with pytest.raises(InvalidRequest, match="nothing to roll back to"):
        reembed.rollback(db, DEFAULT_TENANT, store.id)
    with pytest.raises(InvalidRequest, match="embedded with all-MiniLM-L6-v2 already"):
        reembed.start(db, DEFAULT_TENANT, store.id, reembed.NewModel(embedder.model, 384), embedder)
    with embeddings_server(embedder) as remote:
        url = remote.url
        with pytest.raises(EmbeddingError, match="not 768-dimensional"):
            reembed.start(db, DEFAULT_TENANT, store.id, reembed.NewModel(remote.model, 768, url), embedder)
    with pytest.raises(EmbeddingError, match="The embeddings endpoint failed"):
        reembed.start(db, DEFAULT_TENANT, store.id, reembed.NewModel("gone", 512, url), embedder)
    assert reembed.status(db, DEFAULT_TENANT, store.id) == []  # nothing was recorded by the failed starts
