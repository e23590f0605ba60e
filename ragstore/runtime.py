"""What a ragstore process runs on: settings, database, embedder, chunker and chat model, opened once at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field

from ragstore.cache import QueryCache, open_cache
from ragstore.chat.llm import ChatModel
from ragstore.config import Settings
from ragstore.ingest import priority
from ragstore.ingest.chunk import Chunker
from ragstore.ingest.embed import Embedder, create_embedder, default_chunker
from ragstore.ingest.onnx import OnnxEmbedder
from ragstore.ingest.rerank import Reranker, create_reranker
from ragstore.service import stores
from ragstore.store.db import Database, open_database
from ragstore.worker import Worker, WorkerThreads, housekeeping, ingestion_tasks


@dataclass
class Runtime:
    settings: Settings
    db: Database
    embedder: Embedder
    chunker: Chunker
    chat_model: ChatModel | None = None  # None: answers are extractive
    cache: QueryCache = field(default_factory=QueryCache.disabled)
    reranker: Reranker | None = None  # None: searches are never reranked
    query_embedder: Embedder | None = None  # the server's model session for queries; None: embedder's

    @property
    def queries(self) -> Embedder:
        """The embedder of searches and questions: a session of its own in the server (open_runtime)."""
        return self.query_embedder or self.embedder

    def worker(self, *, poll_seconds: float = 1.0) -> Worker:
        tasks = ingestion_tasks(self.db, self.embedder, self.chunker)
        return Worker(self.db, tasks, housekeeping=housekeeping(self.db), poll_seconds=poll_seconds)

    def start_workers(self, count: int) -> WorkerThreads:
        workers = [self.worker() for _ in range(count)]
        return WorkerThreads(workers, niceness=self.settings.ingest_niceness).start()

    def close(self) -> None:
        if self.chat_model is not None:
            self.chat_model.close()
        if self.reranker is not None:
            self.reranker.close()
        self.cache.close()
        self.db.close()


def open_runtime(settings: Settings, embedder: Embedder | None = None, *, serving: bool = False) -> Runtime:
    """Open the database (migrated) and load the embedding model (unless one is given, already loaded).

    serving (the HTTP server): the local int8 model gets two sessions, so that a search never waits behind an
    ingestion batch: one for queries, whose calls each run on their own request's thread (one intra-op thread),
    and one for ingestion (and /v1/embeddings), with a thread per core at RAGSTORE_INGEST_NICENESS below the
    searches. A remote model, the torch backend and a given embedder are shared by both."""
    query_embedder = None
    if embedder is None and serving:
        embedder = priority.made_at_lower_priority(lambda: create_embedder(settings), settings.ingest_niceness)
        if isinstance(embedder, OnnxEmbedder):
            query_embedder = create_embedder(settings, threads=1)
    embedder = embedder or create_embedder(settings)
    db = open_database(settings)
    try:
        stores.check_language(db, settings.text_search_language)
    except Exception:
        db.close()
        raise
    chat_model, cache = create_chat_model(settings), open_cache(settings)
    reranker = create_reranker(settings)
    return Runtime(settings, db, embedder, default_chunker(), chat_model, cache, reranker, query_embedder)


def create_chat_model(settings: Settings) -> ChatModel | None:
    """The chat model at RAGSTORE_LLM_BASE_URL, if one is set."""
    if not settings.llm_base_url:
        return None
    return ChatModel(
        settings.llm_base_url,
        settings.llm_model,
        settings.llm_api_key,
        settings.llm_timeout_seconds,
        tools=settings.llm_tools,
    )
