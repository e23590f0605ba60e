"""/v1/feedback: the ratings given to answers, listed and aggregated per vector store and per day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ragstore.api import chat_schemas as wire
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.api.listing import Limit, Order
from ragstore.chat import objects
from ragstore.models import PageRequest
from ragstore.service import feedback

router = APIRouter(prefix="/v1/feedback", tags=["Feedback"])


@router.get("", response_model=wire.FeedbackList)
def list_feedback(
    runtime: RuntimeDep,
    tenant: TenantDep,
    conversation_id: str | None = None,
    vector_store_id: str | None = None,
    rating: Annotated[int | None, Query(ge=1, le=5)] = None,
    limit: Limit = 20,
    order: Order = "desc",
    after: str | None = None,
    before: str | None = None,
) -> wire.FeedbackList:
    """Feedback, newest first by default; of one conversation, of answers from one store, or of one rating."""
    page = feedback.list_feedback(
        runtime.db,
        tenant,
        PageRequest(limit, order, after, before),
        conversation_id=conversation_id,
        vector_store_id=vector_store_id,
        rating=rating,
    )
    data = [wire.FeedbackObject(**objects.feedback(f)) for f in page.items]
    return wire.FeedbackList.page(data, has_more=page.has_more)


@router.get("/stats", response_model=wire.FeedbackStats)
def feedback_stats(
    runtime: RuntimeDep, tenant: TenantDep, days: Annotated[int, Query(ge=1, le=3660)] = 30
) -> wire.FeedbackStats:
    """Count, mean and distribution of the ratings of the last `days` days, per store searched and per day (UTC)."""
    return wire.FeedbackStats(**feedback.stats(runtime.db, tenant, days))
