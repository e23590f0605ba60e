"""Conversations and their ordered messages, each with the context its answer used and its feedback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ragstore.models import Conversation, Feedback, Message, PageRequest, Passage
from ragstore.store.pages import fetch_page
from ragstore.store.queries import QUERIES, compose
from ragstore.store.rows import Connection, one

_CONVERSATION = {"columns": sql.SQL(QUERIES["conversation_columns"])}
_MESSAGE = {"columns": sql.SQL(QUERIES["message_columns"]), "source": sql.SQL(QUERIES["message_source"])}


def passages_json(passages: Sequence[Passage]) -> Jsonb:
    return Jsonb([asdict(p) for p in passages])


def passages(rows: list[dict[str, Any]]) -> tuple[Passage, ...]:
    return tuple(Passage(**row) for row in rows)


def insert_conversation(
    conn: Connection,
    tenant_id: str,
    conversation_id: str,
    user_id: str | None,
    title: str | None,
    metadata: dict[str, str] | None,
) -> Conversation:
    row = one(
        conn.execute(
            compose("insert_conversation", **_CONVERSATION),
            {
                "tenant_id": tenant_id,
                "id": conversation_id,
                "user_id": user_id,
                "title": title,
                "metadata": Jsonb(metadata) if metadata is not None else None,
            },
        )
    )
    return Conversation(**row)


def get_conversation(conn: Connection, tenant_id: str, conversation_id: str) -> Conversation | None:
    row = conn.execute(
        compose("get_conversation", **_CONVERSATION), {"tenant_id": tenant_id, "id": conversation_id}
    ).fetchone()
    return Conversation(**row) if row else None


def update_conversation(
    conn: Connection, tenant_id: str, conversation_id: str, changes: dict[str, Any]
) -> Conversation | None:
    """Set title and/or metadata when present in changes (None clears); None if there is no such conversation."""
    metadata = changes.get("metadata")
    row = conn.execute(
        compose("update_conversation", **_CONVERSATION),
        {
            "tenant_id": tenant_id,
            "id": conversation_id,
            "set_title": "title" in changes,
            "title": changes.get("title"),
            "set_metadata": "metadata" in changes,
            "metadata": Jsonb(metadata) if metadata is not None else None,
        },
    ).fetchone()
    return Conversation(**row) if row else None


def delete_conversation(conn: Connection, tenant_id: str, conversation_id: str) -> bool:
    return conn.execute(QUERIES["delete_conversation"], {"tenant_id": tenant_id, "id": conversation_id}).rowcount > 0


def list_conversations(
    conn: Connection, tenant_id: str, user_id: str | None, page: PageRequest
) -> tuple[list[Conversation], bool]:
    rows, has_more = fetch_page(
        conn, "list_conversations", {"tenant_id": tenant_id, "user_id": user_id}, page, None, **_CONVERSATION
    )
    return [Conversation(**row) for row in rows], has_more


def conversations_of_user(conn: Connection, tenant_id: str, user_id: str | None) -> list[Conversation]:
    """Every conversation of the user (of everyone when None), oldest first."""
    rows = conn.execute(
        compose("conversations_of_user", **_CONVERSATION), {"tenant_id": tenant_id, "user_id": user_id}
    ).fetchall()
    return [Conversation(**row) for row in rows]


def touch_conversation(conn: Connection, tenant_id: str, conversation_id: str) -> bool:
    """Mark the conversation updated, which locks it until the transaction ends; False if there is none."""
    params = {"tenant_id": tenant_id, "id": conversation_id}
    return conn.execute(QUERIES["touch_conversation"], params).fetchone() is not None


def lock_for_append(conn: Connection, tenant_id: str, conversation_id: str) -> int | None:
    """Lock the conversation for appending (and mark it updated); the next message position, None if it is gone.

    The position is read after the lock is held, by a statement of its own, so that it sees messages committed by
    whoever held the lock before.
    """
    if not touch_conversation(conn, tenant_id, conversation_id):
        return None
    row = one(conn.execute(QUERIES["next_position"], {"tenant_id": tenant_id, "conversation_id": conversation_id}))
    return row["position"]


def insert_message(conn: Connection, tenant_id: str, message: Message) -> None:
    conn.execute(
        QUERIES["insert_message"],
        {
            "tenant_id": tenant_id,
            "id": message.id,
            "conversation_id": message.conversation_id,
            "position": message.position,
            "role": message.role,
            "content": message.content,
            "model": message.model,
            "vector_store_ids": list(message.vector_store_ids),
            "context_used": passages_json(message.context_used),
            "unused_context": passages_json(message.unused_context),
        },
    )


def save_prompt(conn: Connection, tenant_id: str, message_id: str, prompt: list[dict[str, Any]]) -> None:
    """Keep the chat the model was given for an answer (kept apart from Message: lists of items never need it)."""
    conn.execute(QUERIES["save_message_prompt"], {"tenant_id": tenant_id, "id": message_id, "prompt": Jsonb(prompt)})


def message_prompt(conn: Connection, tenant_id: str, message_id: str) -> list[dict[str, Any]] | None:
    """The chat the model was given for the answer; None for a message that was added as an item."""
    row = conn.execute(QUERIES["message_prompt"], {"tenant_id": tenant_id, "id": message_id}).fetchone()
    return row["prompt"] if row else None


def delete_message(conn: Connection, tenant_id: str, conversation_id: str, message_id: str) -> bool:
    params = {"tenant_id": tenant_id, "conversation_id": conversation_id, "id": message_id}
    return conn.execute(QUERIES["delete_message"], params).rowcount > 0


def get_message(conn: Connection, tenant_id: str, message_id: str) -> Message | None:
    row = conn.execute(compose("get_message", **_MESSAGE), {"tenant_id": tenant_id, "id": message_id}).fetchone()
    return _message(row) if row else None


def list_messages(
    conn: Connection, tenant_id: str, conversation_id: str, page: PageRequest
) -> tuple[list[Message], bool]:
    params = {"tenant_id": tenant_id, "conversation_id": conversation_id}
    rows, has_more = fetch_page(conn, "list_messages", params, page, None, **_MESSAGE)
    return [_message(row) for row in rows], has_more


def conversation_messages(
    conn: Connection, tenant_id: str, conversation_id: str, before_position: int | None = None
) -> list[Message]:
    """The conversation's messages in order; only those before a position when one is given."""
    rows = conn.execute(
        compose("conversation_messages", **_MESSAGE),
        {"tenant_id": tenant_id, "conversation_id": conversation_id, "before_position": before_position},
    ).fetchall()
    return [_message(row) for row in rows]


def _message(row: dict[str, Any]) -> Message:
    keys = ("id", "rating", "comment", "created_at", "updated_at")
    feedback_fields = {key: row.pop(f"feedback_{key}") for key in keys}
    feedback = None
    if feedback_fields["id"] is not None:
        feedback = Feedback(message_id=row["id"], conversation_id=row["conversation_id"], **feedback_fields)
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        position=row["position"],
        role=row["role"],
        content=row["content"],
        created_at=row["created_at"],
        model=row["model"],
        vector_store_ids=tuple(row["vector_store_ids"]),
        context_used=passages(row["context_used"]),
        unused_context=passages(row["unused_context"]),
        feedback=feedback,
    )
