"""/v1/conversations: conversations and their items, after OpenAI's Conversations API; feedback on answers;
exports. ragstore's own additions: user_id and title, listing by user, and each answer's context_used."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ragstore.api import chat_schemas as wire
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.api.listing import Limit, Order
from ragstore.chat import objects
from ragstore.errors import InvalidRequest
from ragstore.models import PageRequest
from ragstore.service import conversations, feedback

router = APIRouter(prefix="/v1/conversations", tags=["Conversations"])


@router.post("", response_model=wire.ConversationObject)
def create_conversation(
    body: wire.CreateConversationRequest, runtime: RuntimeDep, tenant: TenantDep
) -> wire.ConversationObject:
    """Start a conversation, optionally with its first items (up to 20)."""
    created = conversations.create(
        runtime.db,
        tenant,
        user_id=body.user_id,
        title=body.title,
        metadata=body.metadata,
        items=[(item.role, item.text) for item in body.items or []],
    )
    return wire.ConversationObject(**objects.conversation(created))


@router.get("", response_model=wire.ConversationList)
def list_conversations(
    runtime: RuntimeDep,
    tenant: TenantDep,
    user_id: str | None = None,
    limit: Limit = 20,
    order: Order = "desc",
    after: str | None = None,
    before: str | None = None,
) -> wire.ConversationList:
    """Conversations, newest first by default, of one user when user_id is given."""
    page = conversations.list_conversations(runtime.db, tenant, user_id, PageRequest(limit, order, after, before))
    data = [wire.ConversationObject(**objects.conversation(c)) for c in page.items]
    return wire.ConversationList.page(data, has_more=page.has_more)


@router.get("/export", response_model=None, responses={200: {"model": wire.ConversationExport}})
def export_conversations(runtime: RuntimeDep, tenant: TenantDep, user_id: str | None = None) -> dict[str, Any]:
    """Every conversation of the user `user_id` (required) with all its items, as one document."""
    if not user_id:
        raise InvalidRequest(
            "Give the user_id whose conversations to export (`ragstore conversations export` exports everyone's).",
            param="user_id",
        )
    return conversations.export(runtime.db, tenant, user_id=user_id)


@router.get("/{conversation_id}", response_model=wire.ConversationObject)
def retrieve_conversation(conversation_id: str, runtime: RuntimeDep, tenant: TenantDep) -> wire.ConversationObject:
    return wire.ConversationObject(**objects.conversation(conversations.get(runtime.db, tenant, conversation_id)))


@router.post("/{conversation_id}", response_model=wire.ConversationObject)
def update_conversation(
    conversation_id: str, body: wire.UpdateConversationRequest, runtime: RuntimeDep, tenant: TenantDep
) -> wire.ConversationObject:
    """Change title and/or metadata: a field sent as null is cleared, one left out is kept; `{}` changes nothing."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    updated = conversations.update(runtime.db, tenant, conversation_id, changes)
    return wire.ConversationObject(**objects.conversation(updated))


@router.delete("/{conversation_id}", response_model=wire.DeletedObject)
def delete_conversation(conversation_id: str, runtime: RuntimeDep, tenant: TenantDep) -> wire.DeletedObject:
    """Delete the conversation with its items and their feedback; training examples made from it stay (they are
    snapshots) until they are deleted themselves."""
    conversations.delete(runtime.db, tenant, conversation_id)
    return wire.DeletedObject(id=conversation_id, object="conversation.deleted", deleted=True)


@router.get("/{conversation_id}/export", response_model=None, responses={200: {"model": wire.ConversationExport}})
def export_conversation(conversation_id: str, runtime: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    """The conversation with all its items, as one document."""
    return conversations.export(runtime.db, tenant, conversation_id=conversation_id)


@router.get("/{conversation_id}/items", response_model=wire.ConversationItemList)
def list_items(
    conversation_id: str,
    runtime: RuntimeDep,
    tenant: TenantDep,
    limit: Limit = 20,
    order: Order = "desc",
    after: str | None = None,
    before: str | None = None,
) -> wire.ConversationItemList:
    """The conversation's messages, newest first by default as in OpenAI's Conversations API; `order=asc` reads
    them in conversation order."""
    page = conversations.messages(runtime.db, tenant, conversation_id, PageRequest(limit, order, after, before))
    data = [wire.ConversationItem(**objects.item(m)) for m in page.items]
    return wire.ConversationItemList.page(data, has_more=page.has_more)


@router.post("/{conversation_id}/items", response_model=wire.ConversationItemList)
def create_items(
    conversation_id: str, body: wire.CreateItemsRequest, runtime: RuntimeDep, tenant: TenantDep
) -> wire.ConversationItemList:
    """Add messages at the end of the conversation."""
    added = conversations.append(runtime.db, tenant, conversation_id, [(i.role, i.text) for i in body.items])
    return wire.ConversationItemList.page([wire.ConversationItem(**objects.item(m)) for m in added], has_more=False)


@router.get("/{conversation_id}/items/{item_id}", response_model=wire.ConversationItem)
def retrieve_item(conversation_id: str, item_id: str, runtime: RuntimeDep, tenant: TenantDep) -> wire.ConversationItem:
    message = conversations.get_message(runtime.db, tenant, conversation_id, item_id)
    return wire.ConversationItem(**objects.item(message))


@router.delete("/{conversation_id}/items/{item_id}", response_model=wire.ConversationObject)
def delete_item(conversation_id: str, item_id: str, runtime: RuntimeDep, tenant: TenantDep) -> wire.ConversationObject:
    """Delete one item (and its feedback); the conversation is returned, as OpenAI's Conversations API does. A
    training example made from the item stays."""
    updated = conversations.delete_message(runtime.db, tenant, conversation_id, item_id)
    return wire.ConversationObject(**objects.conversation(updated))


@router.post("/{conversation_id}/items/{item_id}/feedback", response_model=wire.FeedbackObject)
def rate_item(
    conversation_id: str, item_id: str, body: wire.FeedbackRequest, runtime: RuntimeDep, tenant: TenantDep
) -> wire.FeedbackObject:
    """Rate an answer 1..5 with an optional comment; rating it again replaces the rating. An answer rated at or
    above RAGSTORE_TRAINING_MIN_RATING becomes a training candidate."""
    given = feedback.rate(
        runtime.db,
        tenant,
        conversation_id,
        item_id,
        body.rating,
        body.comment,
        candidate_at=runtime.settings.training_min_rating,
    )
    return wire.FeedbackObject(**objects.feedback(given))
