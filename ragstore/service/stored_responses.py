"""Stored responses: read one back as it was returned, its input items, forget it, rate its answer.

service/responses.py makes and stores them; these are the rest of /v1/responses/{id}.
"""

from __future__ import annotations

from typing import Any

from ragstore.chat import response_objects as objects
from ragstore.errors import InvalidRequest, ResponseNotFound
from ragstore.models import Feedback, Page, PageRequest
from ragstore.service import feedback, paging
from ragstore.store import responses as response_store
from ragstore.store.db import Database


def get(db: Database, tenant_id: str, response_id: str, *, include_results: bool = False) -> dict[str, Any]:
    """A stored response, as it was returned (its search results only when included)."""
    body = _found(db, tenant_id, response_id).body
    return body if include_results else objects.without_results(body)


def input_items(db: Database, tenant_id: str, response_id: str, page: PageRequest) -> Page[dict[str, Any]]:
    """The items a stored response was given, a page of them, by position (desc: the last first)."""
    paging.check(page)
    items = _found(db, tenant_id, response_id).input_items
    ordered = items if page.order == "asc" else items[::-1]
    positions = {item["id"]: n for n, item in enumerate(ordered)}
    start = positions[page.after] + 1 if page.after in positions else 0
    end = positions[page.before] if page.before in positions else len(ordered)
    chosen = ordered[start:end]
    return Page(chosen[: page.limit], len(chosen) > page.limit)


def delete(db: Database, tenant_id: str, response_id: str) -> None:
    """Forget a stored response (its exchange stays in its conversation)."""
    with db.tenant(tenant_id) as conn:
        if not response_store.delete_response(conn, tenant_id, response_id):
            raise _not_found(response_id)


def cancel(db: Database, tenant_id: str, response_id: str) -> dict[str, Any]:
    """Only a background response can be cancelled, and ragstore makes none: a stored one is already finished."""
    body = _found(db, tenant_id, response_id).body
    raise InvalidRequest(
        f"Only a response created with background: true can be cancelled; '{response_id}' is {body['status']}.",
        param="response_id",
    )


def rate(
    db: Database, tenant_id: str, response_id: str, rating: int, comment: str | None, *, candidate_at: int
) -> Feedback:
    """Rate a stored response's answer, as feedback on its message (a good one becomes a training candidate)."""
    stored = _found(db, tenant_id, response_id)
    if stored.message_id is None or stored.conversation_id is None:
        raise InvalidRequest(
            f"The answer of '{response_id}' was deleted with its conversation: it can no longer be rated.",
            param="response_id",
        )
    return feedback.rate(
        db, tenant_id, stored.conversation_id, stored.message_id, rating, comment, candidate_at=candidate_at
    )


def _found(db: Database, tenant_id: str, response_id: str) -> response_store.StoredResponse:
    with db.tenant(tenant_id) as conn:
        stored = response_store.get_response(conn, tenant_id, response_id)
    if stored is None:
        raise _not_found(response_id)
    return stored


def _not_found(response_id: str) -> ResponseNotFound:
    return ResponseNotFound(f"No response found with id '{response_id}'.", param="response_id")
