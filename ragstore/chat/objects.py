"""Conversations, messages, feedback, training examples and datasets as JSON objects in OpenAI's conventions.

One rendering for the API's responses and for exports, so that a client reads both with the same code. Times are
Unix seconds; ids carry a type prefix (conv_, msg_, fb_, tex_, ds_; chunks in context as chunk_<n>).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from ragstore.models import Conversation, Dataset, Feedback, Message, TrainingExample


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def conversation(c: Conversation) -> dict[str, Any]:
    return {
        "id": c.id,
        "object": "conversation",
        "user_id": c.user_id,
        "title": c.title,
        "metadata": c.metadata,
        "created_at": unix(c.created_at),
        "updated_at": unix(c.updated_at),
    }


def item(m: Message, *, with_unused: bool = False) -> dict[str, Any]:
    """A message as a conversation item: OpenAI's message item, plus when it was made, the model that wrote an
    answer, the stores searched, the passages used and the feedback given (unused passages only in exports)."""
    part = "output_text" if m.role == "assistant" else "input_text"
    rendered = {
        "id": m.id,
        "object": "conversation.item",
        "type": "message",
        "status": "completed",
        "role": m.role,
        "content": [{"type": part, "text": m.content}],
        "created_at": unix(m.created_at),
        "model": m.model,
        "vector_store_ids": list(m.vector_store_ids),
        "context_used": [asdict(p) for p in m.context_used],
        "feedback": feedback_summary(m.feedback) if m.feedback else None,
    }
    if with_unused:
        rendered["unused_context"] = [asdict(p) for p in m.unused_context]
    return rendered


def feedback_summary(f: Feedback) -> dict[str, Any]:
    return {"id": f.id, "rating": f.rating, "comment": f.comment, "updated_at": unix(f.updated_at)}


def feedback(f: Feedback) -> dict[str, Any]:
    return {
        "id": f.id,
        "object": "feedback",
        "conversation_id": f.conversation_id,
        "message_id": f.message_id,
        "rating": f.rating,
        "comment": f.comment,
        "created_at": unix(f.created_at),
        "updated_at": unix(f.updated_at),
    }


def training_example(t: TrainingExample) -> dict[str, Any]:
    return {
        "id": t.id,
        "object": "training_example",
        "status": t.status,
        "source": t.source,
        "rating": t.rating,
        "conversation_id": t.conversation_id,
        "message_id": t.message_id,
        "query": t.query,
        "answer": t.answer,
        "messages": t.messages,
        "context_used": [asdict(p) for p in t.context_used],
        "vector_store_ids": list(t.vector_store_ids),
        "model": t.model,
        "created_at": unix(t.created_at),
        "updated_at": unix(t.updated_at),
    }


def dataset(d: Dataset) -> dict[str, Any]:
    return {
        "id": d.id,
        "object": "dataset",
        "name": d.name,
        "description": d.description,
        "example_count": d.example_count,
        "created_at": unix(d.created_at),
        "updated_at": unix(d.updated_at),
    }
