"""Stored responses: the object as returned, its input items, and its turn for the responses chained to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection


@dataclass(frozen=True)
class StoredResponse:
    id: str
    previous_response_id: str | None
    conversation_id: str | None
    message_id: str | None
    body: dict[str, Any]
    input_items: list[dict[str, Any]]
    created_at: datetime | None = None  # set by the database


def insert_response(conn: Connection, tenant_id: str, stored: StoredResponse, turn: list[dict[str, Any]]) -> None:
    conn.execute(
        QUERIES["insert_response"],
        {
            "tenant_id": tenant_id,
            "id": stored.id,
            "previous_response_id": stored.previous_response_id,
            "conversation_id": stored.conversation_id,
            "message_id": stored.message_id,
            "body": Jsonb(stored.body),
            "input_items": Jsonb(stored.input_items),
            "turn": Jsonb(turn),
        },
    )


def get_response(conn: Connection, tenant_id: str, response_id: str) -> StoredResponse | None:
    row = conn.execute(QUERIES["get_response"], {"tenant_id": tenant_id, "id": response_id}).fetchone()
    return StoredResponse(**row) if row else None


def delete_response(conn: Connection, tenant_id: str, response_id: str) -> bool:
    return conn.execute(QUERIES["delete_response"], {"tenant_id": tenant_id, "id": response_id}).rowcount > 0


def response_chain(conn: Connection, tenant_id: str, response_id: str, depth: int) -> list[dict[str, Any]]:
    """The chat messages of the response's turn and of up to depth - 1 turns before it, oldest first."""
    rows = conn.execute(QUERIES["response_chain"], {"tenant_id": tenant_id, "id": response_id, "depth": depth})
    return [message for row in rows for message in row["turn"]]
