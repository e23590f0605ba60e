"""What /v1/answers and /v1/responses share: retrieval through the search service (its cache, filters and
tenancy), the passages it gives the model, and the exchange recorded in a conversation.

An exchange is recorded in the caller's transaction, once the answer is whole: the turn's input, then the answer
with the stores searched, the passages used and found beyond them, and the chat the model was given (training
examples are made from it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ragstore.cache import QueryCache
from ragstore.ingest.embed import Embedder
from ragstore.models import Message, Passage, SearchHit
from ragstore.service import conversations, search
from ragstore.store import conversations as conversation_store
from ragstore.store.db import Connection, Database

# The search goes this many passages beyond those given to the model: the hard negatives of retrieval triplets.
UNUSED_DEPTH = 10
TITLE_LENGTH = 80


@dataclass(frozen=True)
class Retrieval:
    """Where and how an exchange searches."""

    vector_store_ids: tuple[str, ...]
    filters: Mapping[str, Any] | None = None
    max_num_results: int = 5
    ranker: str = "hybrid"
    score_threshold: float = 0.0


@dataclass(frozen=True)
class Found:
    """The passages a search gives the model, and those it found beyond them."""

    used: tuple[Passage, ...]
    unused: tuple[Passage, ...]
    attributes: Mapping[str, Mapping[str, Any]]  # chunk_id -> the file's attributes


def find(
    db: Database,
    embedder: Embedder,
    tenant_id: str,
    retrieval: Retrieval,
    query: str | Sequence[str],
    cache: QueryCache | None = None,
) -> Found:
    """The best passages for the query in the stores, through the search service (and its cache, if given)."""
    hits = search.search(
        db,
        embedder,
        tenant_id,
        list(retrieval.vector_store_ids),
        query,
        min(search.DEPTH_MAX, retrieval.max_num_results + UNUSED_DEPTH),
        retrieval.score_threshold,
        retrieval.filters,
        ranker=retrieval.ranker,
        cache=cache,
    )
    found = tuple(passage(hit) for hit in hits)
    limit = retrieval.max_num_results
    return Found(found[:limit], found[limit:], {f"chunk_{hit.chunk_id}": hit.attributes for hit in hits})


def passage(hit: SearchHit) -> Passage:
    return Passage(
        chunk_id=f"chunk_{hit.chunk_id}",
        file_id=hit.file_id,
        filename=hit.filename,
        vector_store_id=hit.vector_store_id,
        score=round(hit.score, 6),
        excerpt=hit.text,
    )


@dataclass(frozen=True)
class Exchange:
    """A whole exchange, ready to be recorded."""

    conversation_id: str
    is_new: bool  # the conversation is created with the exchange, titled by its question
    user_id: str | None
    asked: Sequence[tuple[str, str]]  # (role, text) of the turn's input, its question last
    answer_id: str
    answer: str
    model: str
    vector_store_ids: tuple[str, ...]
    used: tuple[Passage, ...]
    unused: tuple[Passage, ...]
    prompt: list[dict[str, Any]]


def record(conn: Connection, tenant_id: str, exchange: Exchange) -> list[Message]:
    """Store the exchange (and its conversation, if new) in the caller's transaction; the messages, answer last."""
    conversation_id = exchange.conversation_id
    asked = [conversations.new_message(conversation_id, role, text) for role, text in exchange.asked]
    replied = conversations.new_message(
        conversation_id,
        "assistant",
        exchange.answer,
        model=exchange.model,
        vector_store_ids=exchange.vector_store_ids,
        context_used=exchange.used,
        unused_context=exchange.unused,
    )
    if exchange.is_new:
        title = exchange.asked[-1][1].strip().splitlines()[0][:TITLE_LENGTH]
        conversation_store.insert_conversation(conn, tenant_id, conversation_id, exchange.user_id, title, None)
    stored = conversations.append_messages(
        conn, tenant_id, conversation_id, [*asked, replace(replied, id=exchange.answer_id)]
    )
    conversation_store.save_prompt(conn, tenant_id, stored[-1].id, exchange.prompt)
    return stored
