"""Supabase-style RPC: POST /rest/v1/rpc/match_documents and /match_documents_half, as the seeds call them.

The seeds' code calls `supabase.rpc("match_documents", {...}).execute()` (seed 002) and posts to
`/rest/v1/rpc/match_documents_half` (seed 003); pointed at ragstore (the client's URL is ragstore's base URL, its
key a ragstore API key), the same call returns the same rows: a JSON array of `{id, content, metadata, similarity,
vector_store_id, file_id}`, best first. The key is read as supabase-py sends it (`Authorization: Bearer` and
`apikey`). Only POST is served (supabase-py's `rpc(..., get=True)` is answered 405). Errors come in PostgREST's
shape, `{"code", "details", "hint", "message"}`, which supabase-py raises as `APIError`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ragstore.api.deps import RestTenantDep, RuntimeDep
from ragstore.models import DocumentMatch
from ragstore.service import match


class PostgrestError(BaseModel):
    """An error as PostgREST sends it; code is ragstore's (invalid_api_key, invalid_value, ...)."""

    code: str | None
    details: str | None
    hint: str | None
    message: str


router = APIRouter(
    prefix="/rest/v1/rpc",
    tags=["Supabase RPC"],
    responses={"4XX": {"model": PostgrestError, "description": "Refused, in PostgREST's shape."}},
)


class MatchDocumentsArgs(BaseModel):
    """The arguments the seeds send; unknown ones are refused (PostgREST finds no function taking them)."""

    model_config = ConfigDict(extra="forbid")

    query_embedding: list[float] = Field(description="The query's embedding, or its text form '[0.1, ...]'.")
    match_threshold: float = Field(0.0, description="Only rows more similar than this (cosine similarity).")
    match_count: int = Field(10, description="At most this many rows.")
    company_id: str | None = Field(None, description="A tenant id (ten_...); another tenant's matches nothing.")
    vector_store_ids: list[str] | None = Field(None, description="Only these stores (default: all of the tenant's).")
    vector_store_id: str | None = Field(None, description="Only this store.")
    filter: dict[str, Any] | None = Field(None, description="Attributes the chunks' attributes must contain.")

    @field_validator("query_embedding", mode="before")
    @classmethod
    def _text_form(cls, value: Any) -> Any:
        """PostgREST also takes a vector as its text, '[0.1,0.2]'."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError("a vector's text form is '[0.1, 0.2, ...]'") from None
        return value

    def store_ids(self) -> list[str] | None:
        if self.vector_store_id is None:
            return self.vector_store_ids
        return [*(self.vector_store_ids or []), self.vector_store_id]


class DocumentRow(BaseModel):
    id: int
    content: str
    metadata: dict[str, Any]
    similarity: float
    vector_store_id: str
    file_id: str


def _rows(found: list[DocumentMatch]) -> list[DocumentRow]:
    return [DocumentRow(**vars(row)) for row in found]


def _call(runtime: RuntimeDep, tenant: str, args: MatchDocumentsArgs, half: bool) -> list[DocumentRow]:
    found = match.match_documents(
        runtime.db,
        tenant,
        args.query_embedding,
        half=half,
        company_id=args.company_id,
        threshold=args.match_threshold,
        count=args.match_count,
        store_ids=args.store_ids(),
        attributes=args.filter,
    )
    return _rows(found)


@router.post("/match_documents", response_model=list[DocumentRow])
def match_documents(args: MatchDocumentsArgs, runtime: RuntimeDep, tenant: RestTenantDep) -> list[DocumentRow]:
    """The chunks nearest to query_embedding (SQL: match_documents(vector, ...)), as seed 002 calls it."""
    return _call(runtime, tenant, args, half=False)


@router.post("/match_documents_half", response_model=list[DocumentRow])
def match_documents_half(args: MatchDocumentsArgs, runtime: RuntimeDep, tenant: RestTenantDep) -> list[DocumentRow]:
    """The same through match_documents_half(halfvec, ...), as seed 003 calls it with float16 embeddings."""
    return _call(runtime, tenant, args, half=True)
