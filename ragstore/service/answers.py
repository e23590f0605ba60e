"""Answers: retrieve context with the API's own search, answer with the chat model (or extractively), remember.

The exchange (the question, the answer, the passages used and those found beyond them) is stored in one
transaction once the answer is whole: a failed or abandoned answer leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ragstore import ids
from ragstore.cache import QueryCache
from ragstore.chat import extractive, prompt
from ragstore.chat.llm import ChatModel
from ragstore.errors import InvalidRequest
from ragstore.ingest.embed import Embedder
from ragstore.models import Conversation, Message, Passage
from ragstore.service import conversations, exchange
from ragstore.store import conversations as conversation_store
from ragstore.store.db import Database

MAX_CONTEXT = 20


@dataclass(frozen=True)
class Question:
    text: str
    vector_store_ids: Sequence[str]
    conversation_id: str | None = None
    user_id: str | None = None
    filters: Mapping[str, Any] | None = None
    max_num_results: int = 5
    ranker: str = "hybrid"
    score_threshold: float = 0.0


@dataclass(frozen=True)
class Answer:
    conversation: Conversation
    question: Message
    answer: Message
    citations: list[int] = field(default_factory=list)  # passage numbers, 1-based, into answer.context_used


@dataclass(frozen=True)
class Prepared:
    """Everything known before the model speaks: where the exchange goes, what was found, what the model gets."""

    question: Question
    conversation_id: str
    is_new: bool
    used: tuple[Passage, ...]
    unused: tuple[Passage, ...]
    messages: list[dict[str, str]]


def prepare(
    db: Database, embedder: Embedder, tenant_id: str, question: Question, cache: QueryCache | None = None
) -> Prepared:
    """Check the question, read the conversation's recent turns and retrieve its context (through the cache, if
    given, as the search route does: a question asked again of unchanged stores is not embedded or searched again)."""
    _check(question)
    # A store named twice is searched, recorded and counted in feedback stats once.
    question = replace(question, vector_store_ids=tuple(dict.fromkeys(question.vector_store_ids)))
    if question.conversation_id is not None:
        _check_owner(conversations.get(db, tenant_id, question.conversation_id), question)
        with db.tenant(tenant_id) as conn:
            history = conversation_store.conversation_messages(conn, tenant_id, question.conversation_id)
    else:
        history = []
    retrieval = exchange.Retrieval(
        tuple(question.vector_store_ids),
        question.filters,
        question.max_num_results,
        question.ranker,
        question.score_threshold,
    )
    found = exchange.find(db, embedder, tenant_id, retrieval, question.text, cache)
    used, unused = found.used, found.unused
    return Prepared(
        question=question,
        conversation_id=question.conversation_id or ids.new(ids.CONVERSATION),
        is_new=question.conversation_id is None,
        used=used,
        unused=unused,
        messages=prompt.build(history, used, question.text),
    )


def answer(
    db: Database,
    embedder: Embedder,
    model: ChatModel | None,
    tenant_id: str,
    question: Question,
    cache: QueryCache | None = None,
) -> Answer:
    """Answer the question with the chat model when one is configured, else extractively; store the exchange."""
    prepared = prepare(db, embedder, tenant_id, question, cache)
    if model is None:
        text = extractive.answer(embedder, question.text, prepared.used)
        return store(db, tenant_id, prepared, text, extractive.MODEL)
    return store(db, tenant_id, prepared, model.complete(prepared.messages), model.model)


def stream(
    db: Database, embedder: Embedder, model: ChatModel | None, tenant_id: str, prepared: Prepared
) -> Iterator[str | Answer]:
    """The answer's text in pieces as they come, then the stored Answer (an extractive answer is one piece)."""
    if model is None:
        text = extractive.answer(embedder, prepared.question.text, prepared.used)
        yield text
        yield store(db, tenant_id, prepared, text, extractive.MODEL)
        return
    pieces = []
    for piece in model.stream(prepared.messages):
        pieces.append(piece)
        yield piece
    yield store(db, tenant_id, prepared, "".join(pieces), model.model)


def store(db: Database, tenant_id: str, prepared: Prepared, text: str, model_name: str) -> Answer:
    """Remember the exchange (and the conversation, if it is new) in one transaction, with the chat the model was
    given (or would have been, for an extractive answer): training examples are made from it."""
    question = prepared.question
    if not text.strip():
        text = extractive.NO_ANSWER
    recorded = exchange.Exchange(
        conversation_id=prepared.conversation_id,
        is_new=prepared.is_new,
        user_id=question.user_id,
        asked=[("user", question.text)],
        answer_id=ids.new(ids.MESSAGE),
        answer=text,
        model=model_name,
        vector_store_ids=tuple(question.vector_store_ids),
        used=prepared.used,
        unused=prepared.unused,
        prompt=list(prepared.messages),
    )
    with db.tenant(tenant_id) as conn:
        stored_question, stored_answer = exchange.record(conn, tenant_id, recorded)
        conversation = conversation_store.get_conversation(conn, tenant_id, prepared.conversation_id)
    assert conversation is not None
    return Answer(conversation, stored_question, stored_answer, prompt.cited(text, len(prepared.used)))


def _check(question: Question) -> None:
    if not question.text.strip():
        raise InvalidRequest("The question is empty.", param="question")
    if not question.vector_store_ids:
        raise InvalidRequest("Give at least one vector store to answer from.", param="vector_store_ids")
    if not 1 <= question.max_num_results <= MAX_CONTEXT:
        raise InvalidRequest(
            f"max_num_results must be between 1 and {MAX_CONTEXT}, got {question.max_num_results}.",
            param="max_num_results",
        )


def _check_owner(conversation: Conversation, question: Question) -> None:
    owner = conversation.user_id
    if question.user_id is not None and owner is not None and owner != question.user_id:
        raise InvalidRequest(
            f"Conversation '{conversation.id}' belongs to another user; user '{question.user_id}' cannot add to it.",
            param="user_id",
        )
