"""Conversations: created, read, renamed, deleted, listed by user; messages appended in order; exports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ragstore import ids
from ragstore.chat import objects
from ragstore.errors import ConversationNotFound, InvalidRequest, MessageNotFound
from ragstore.models import Conversation, Message, Page, PageRequest
from ragstore.service import paging
from ragstore.store import conversations
from ragstore.store.db import Connection, Database

ROLES = ("system", "developer", "user", "assistant")
MAX_ITEMS = 20  # per create or append call, as OpenAI's Conversations API
EXPORT_FORMAT = "ragstore.conversations/1"


def create(
    db: Database,
    tenant_id: str,
    *,
    user_id: str | None = None,
    title: str | None = None,
    metadata: dict[str, str] | None = None,
    items: Sequence[tuple[str, str]] = (),
) -> Conversation:
    """A new conversation, with its first messages (role, text) when given."""
    _check_items(items)
    with db.tenant(tenant_id) as conn:
        conversation = conversations.insert_conversation(
            conn, tenant_id, ids.new(ids.CONVERSATION), user_id, title, metadata
        )
        if items:
            append_messages(conn, tenant_id, conversation.id, [new_message(conversation.id, r, t) for r, t in items])
    return conversation


def get(db: Database, tenant_id: str, conversation_id: str) -> Conversation:
    with db.tenant(tenant_id) as conn:
        return _found(conversations.get_conversation(conn, tenant_id, conversation_id), conversation_id)


def update(db: Database, tenant_id: str, conversation_id: str, changes: dict[str, Any]) -> Conversation:
    """Change title and/or metadata: a field given as None is cleared, one left out is kept (no change at all
    leaves the conversation as it is, updated_at included)."""
    if not changes:
        return get(db, tenant_id, conversation_id)
    with db.tenant(tenant_id) as conn:
        updated = conversations.update_conversation(conn, tenant_id, conversation_id, changes)
    return _found(updated, conversation_id)


def delete(db: Database, tenant_id: str, conversation_id: str) -> None:
    """Delete a conversation, its messages and their feedback (training examples made from it stay, as snapshots)."""
    with db.tenant(tenant_id) as conn:
        if not conversations.delete_conversation(conn, tenant_id, conversation_id):
            _found(None, conversation_id)


def list_conversations(db: Database, tenant_id: str, user_id: str | None, page: PageRequest) -> Page[Conversation]:
    paging.check(page)
    with db.tenant(tenant_id) as conn:
        found, has_more = conversations.list_conversations(conn, tenant_id, user_id, page)
    return Page(found, has_more)


def messages(db: Database, tenant_id: str, conversation_id: str, page: PageRequest) -> Page[Message]:
    """A page of the conversation's messages, by position: newest first with order='desc', as OpenAI's default."""
    paging.check(page)
    with db.tenant(tenant_id) as conn:
        _found(conversations.get_conversation(conn, tenant_id, conversation_id), conversation_id)
        if page.cursor is not None:
            cursor = conversations.get_message(conn, tenant_id, page.cursor)
            if cursor is None or cursor.conversation_id != conversation_id:
                param = "after" if page.after else "before"
                raise InvalidRequest(f"No message with id '{page.cursor}' in this conversation.", param=param)
        found, has_more = conversations.list_messages(conn, tenant_id, conversation_id, page)
    return Page(found, has_more)


def append(db: Database, tenant_id: str, conversation_id: str, items: Sequence[tuple[str, str]]) -> list[Message]:
    """Add messages (role, text) at the end of the conversation."""
    _check_items(items)
    if not items:
        raise InvalidRequest("Give at least one item.", param="items")
    added = [new_message(conversation_id, role, text) for role, text in items]
    with db.tenant(tenant_id) as conn:
        return append_messages(conn, tenant_id, conversation_id, added)


def get_message(db: Database, tenant_id: str, conversation_id: str, message_id: str) -> Message:
    with db.tenant(tenant_id) as conn:
        message = conversations.get_message(conn, tenant_id, message_id)
    if message is None or message.conversation_id != conversation_id:
        raise _no_message(message_id)
    return message


def delete_message(db: Database, tenant_id: str, conversation_id: str, message_id: str) -> Conversation:
    """Delete one message (and its feedback; a training example made from it stays); the conversation after it."""
    with db.tenant(tenant_id) as conn:
        if not conversations.touch_conversation(conn, tenant_id, conversation_id):
            _found(None, conversation_id)
        if not conversations.delete_message(conn, tenant_id, conversation_id, message_id):
            raise _no_message(message_id)
        return _found(conversations.get_conversation(conn, tenant_id, conversation_id), conversation_id)


def new_message(conversation_id: str, role: str, content: str, **fields: Any) -> Message:
    """A message not stored yet: its position is given when it is appended."""
    now = datetime.now(UTC)
    return Message(ids.new(ids.MESSAGE), conversation_id, 0, role, content, now, **fields)


def append_messages(conn: Connection, tenant_id: str, conversation_id: str, added: Sequence[Message]) -> list[Message]:
    """Store messages after the conversation's last, in one transaction (the caller's)."""
    position = conversations.lock_for_append(conn, tenant_id, conversation_id)
    if position is None:
        raise _no_conversation(conversation_id)
    stored = []
    for offset, message in enumerate(added):
        placed = replace(message, position=position + offset, conversation_id=conversation_id)
        conversations.insert_message(conn, tenant_id, placed)
        found = conversations.get_message(conn, tenant_id, placed.id)
        assert found is not None, "a message inserted in this transaction is found in it"
        stored.append(found)
    return stored


def export(db: Database, tenant_id: str, *, conversation_id: str | None = None, user_id: str | None = None) -> dict:
    """One conversation, or all of a user's (everyone's when neither is given), with every message, the context
    each answer used and found, and the feedback given: a JSON document in the API's object shapes."""
    with db.tenant(tenant_id) as conn:
        if conversation_id is not None:
            chosen = [_found(conversations.get_conversation(conn, tenant_id, conversation_id), conversation_id)]
        else:
            chosen = conversations.conversations_of_user(conn, tenant_id, user_id)
        rendered = [{**objects.conversation(c), "items": _exported_items(conn, tenant_id, c)} for c in chosen]
    return {
        "object": "conversation.export",
        "format": EXPORT_FORMAT,
        "exported_at": int(datetime.now(UTC).timestamp()),
        "user_id": user_id,
        "conversations": rendered,
    }


def _exported_items(conn: Connection, tenant_id: str, conversation: Conversation) -> list[dict[str, Any]]:
    messages = conversations.conversation_messages(conn, tenant_id, conversation.id)
    return [objects.item(m, with_unused=True) for m in messages]


def _check_items(items: Sequence[tuple[str, str]]) -> None:
    if len(items) > MAX_ITEMS:
        raise InvalidRequest(f"At most {MAX_ITEMS} items at a time, got {len(items)}.", param="items")
    for role, text in items:
        if role not in ROLES:
            raise InvalidRequest(f"Unknown role {role!r}: one of {', '.join(ROLES)}.", param="items")
        if not text.strip():
            raise InvalidRequest("A message's text is empty.", param="items")


def _found(conversation: Conversation | None, conversation_id: str) -> Conversation:
    if conversation is None:
        raise _no_conversation(conversation_id)
    return conversation


def _no_conversation(conversation_id: str) -> ConversationNotFound:
    return ConversationNotFound(f"No conversation found with id '{conversation_id}'.", param="conversation_id")


def _no_message(message_id: str) -> MessageNotFound:
    return MessageNotFound(f"No message found with id '{message_id}' in this conversation.", param="item_id")
