"""Seed 004's compatibility surface: its /api/vector-stores/ routes, as its guide documents them.

A thin adapter: each route calls the /v1 route of the same operation (same request models, services, API keys and
tenancy) and wraps the answer as the guide shows it, `{"success": true, "vector_store": ...}`, `{"batch": ...}`,
lists as `{"success": true, "<name>": [...]}` beside the /v1 list fields (the guide's own code reads a list's
`data`). It adds no behaviour of its own: `?refresh=true` is accepted and changes nothing, every read being live
(the seed's app kept a local cache of OpenAI's answers). Errors come in ragstore's usual envelope.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from ragstore.api import schemas
from ragstore.api import vector_store_files as v1_files
from ragstore.api import vector_stores as v1_stores
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.api.vector_store_files import BatchListQuery, FileListQuery

router = APIRouter(prefix="/api/vector-stores", tags=["Seed 004 compatibility"])


class StoreAnswer(BaseModel):
    success: Literal[True] = True
    vector_store: schemas.VectorStoreObject


class BatchAnswer(BaseModel):
    success: Literal[True] = True
    batch: schemas.VectorStoreFileBatchObject


class StoreList(schemas.ListVectorStoresResponse):
    success: Literal[True] = True
    vector_stores: list[schemas.VectorStoreObject]


class BatchList(schemas.ListVectorStoreFileBatchesResponse):
    success: Literal[True] = True
    batches: list[schemas.VectorStoreFileBatchObject]


class FileList(schemas.ListVectorStoreFilesResponse):
    success: Literal[True] = True
    files: list[schemas.VectorStoreFileObject]


class DeleteAnswer(schemas.DeleteVectorStoreResponse):
    success: Literal[True] = True


class Stats(BaseModel):
    total_vector_stores: int
    total_file_batches: int
    total_files_processed: int
    batches_in_progress: int
    batches_completed: int
    batches_failed: int
    batches_cancelled: int


class StatsAnswer(BaseModel):
    success: Literal[True] = True
    stats: Stats


@router.post("/", response_model=StoreAnswer)
@router.post("", response_model=StoreAnswer, include_in_schema=False)
def create_vector_store(body: schemas.CreateVectorStoreRequest, runtime: RuntimeDep, tenant: TenantDep) -> StoreAnswer:
    """POST /v1/vector_stores, wrapped."""
    return StoreAnswer(vector_store=v1_stores.create_vector_store(body, runtime, tenant))


@router.get("/list", response_model=StoreList)
def list_vector_stores(
    runtime: RuntimeDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: v1_stores.Order = "desc",
    after: str | None = None,
    before: str | None = None,
) -> StoreList:
    """GET /v1/vector_stores, wrapped."""
    page = v1_stores.list_vector_stores(runtime, tenant, limit, order, after, before)
    return StoreList(**dict(page), vector_stores=page.data)


@router.get("/stats", response_model=StatsAnswer)
def vector_store_stats(runtime: RuntimeDep, tenant: TenantDep) -> StatsAnswer:
    """GET /v1/vector_stores/stats, in the guide's names; files processed are those completed."""
    usage: dict[str, Any] = v1_stores.vector_store_stats(runtime, tenant)
    batches = usage["file_batches_by_status"]
    stats = Stats(
        total_vector_stores=usage["vector_stores"],
        total_file_batches=usage["file_batches"],
        total_files_processed=usage["files_by_status"].get("completed", 0),
        batches_in_progress=batches.get("in_progress", 0),
        batches_completed=batches.get("completed", 0),
        batches_failed=batches.get("failed", 0),
        batches_cancelled=batches.get("cancelled", 0),
    )
    return StatsAnswer(stats=stats)


@router.get("/{vector_store_id}", response_model=StoreAnswer)
def retrieve_vector_store(
    vector_store_id: str, response: Response, runtime: RuntimeDep, tenant: TenantDep, refresh: bool = False
) -> StoreAnswer:
    """GET /v1/vector_stores/{id}, wrapped; refresh is accepted (every read is live)."""
    return StoreAnswer(vector_store=v1_stores.retrieve_vector_store(vector_store_id, response, runtime, tenant))


@router.delete("/{vector_store_id}", response_model=DeleteAnswer)
def delete_vector_store(vector_store_id: str, runtime: RuntimeDep, tenant: TenantDep) -> DeleteAnswer:
    """DELETE /v1/vector_stores/{id}, wrapped."""
    return DeleteAnswer(**dict(v1_stores.delete_vector_store(vector_store_id, runtime, tenant)))


@router.post("/{vector_store_id}/file-batches", response_model=BatchAnswer)
def create_file_batch(
    vector_store_id: str,
    body: schemas.CreateVectorStoreFileBatchRequest,
    response: Response,
    runtime: RuntimeDep,
    tenant: TenantDep,
) -> BatchAnswer:
    """POST /v1/vector_stores/{id}/file_batches, wrapped."""
    batch = v1_files.create_vector_store_file_batch(vector_store_id, body, response, runtime, tenant)
    return BatchAnswer(batch=batch)


@router.get("/{vector_store_id}/file-batches/list", response_model=BatchList)
def list_file_batches(
    vector_store_id: str, query: Annotated[BatchListQuery, Depends()], runtime: RuntimeDep, tenant: TenantDep
) -> BatchList:
    """GET /v1/vector_stores/{id}/file_batches (ragstore's own list), wrapped."""
    page = v1_files.list_vector_store_file_batches(vector_store_id, query, runtime, tenant)
    return BatchList(**dict(page), batches=page.data)


@router.get("/{vector_store_id}/file-batches/{batch_id}", response_model=BatchAnswer)
def retrieve_file_batch(
    vector_store_id: str, batch_id: str, response: Response, runtime: RuntimeDep, tenant: TenantDep
) -> BatchAnswer:
    """GET /v1/vector_stores/{id}/file_batches/{batch_id}, wrapped."""
    batch = v1_files.retrieve_vector_store_file_batch(vector_store_id, batch_id, response, runtime, tenant)
    return BatchAnswer(batch=batch)


@router.post("/{vector_store_id}/file-batches/{batch_id}/cancel", response_model=BatchAnswer)
def cancel_file_batch(vector_store_id: str, batch_id: str, runtime: RuntimeDep, tenant: TenantDep) -> BatchAnswer:
    """POST /v1/vector_stores/{id}/file_batches/{batch_id}/cancel, wrapped."""
    return BatchAnswer(batch=v1_files.cancel_vector_store_file_batch(vector_store_id, batch_id, runtime, tenant))


@router.get("/{vector_store_id}/file-batches/{batch_id}/files", response_model=FileList)
def list_batch_files(
    vector_store_id: str,
    batch_id: str,
    query: Annotated[FileListQuery, Depends()],
    runtime: RuntimeDep,
    tenant: TenantDep,
) -> FileList:
    """GET /v1/vector_stores/{id}/file_batches/{batch_id}/files (filter: a status), wrapped."""
    page = v1_files.list_files_in_vector_store_batch(vector_store_id, batch_id, query, runtime, tenant)
    return FileList(**dict(page), files=page.data)
