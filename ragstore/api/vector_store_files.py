"""/v1/vector_stores/{id}/files and /file_batches: attach files, follow their processing, detach, cancel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from ragstore.api import objects, schemas
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.api.vector_stores import Order, poll_header, strategy
from ragstore.models import PageRequest
from ragstore.runtime import Runtime
from ragstore.service import vector_store_files
from ragstore.service.ingestion import FileSpec

router = APIRouter(prefix="/v1/vector_stores/{vector_store_id}", tags=["Vector store files"])

Status = Literal["in_progress", "completed", "failed", "cancelled"]
Limit = Annotated[int, Query(ge=1, le=100)]


@router.post("/files", response_model=schemas.VectorStoreFileObject)
def create_vector_store_file(
    vector_store_id: str,
    body: schemas.CreateVectorStoreFileRequest,
    response: Response,
    runtime: RuntimeDep,
    tenant: TenantDep,
) -> schemas.VectorStoreFileObject:
    """Add a file to a vector store; it is parsed, chunked and embedded in the background."""
    spec = FileSpec(body.file_id, strategy(body.chunking_strategy), body.attributes)
    attached = vector_store_files.attach(runtime.db, tenant, vector_store_id, spec)
    poll_header(response, attached.status == "in_progress")
    return objects.store_file_object(attached)


@dataclass
class FileListQuery:
    """The query of OpenAI's vector store file lists."""

    limit: Limit = 20
    order: Order = "desc"
    after: str | None = None
    before: str | None = None
    filter: Status | None = None  # noqa: A003 - OpenAI's name


FileList = Annotated[FileListQuery, Depends()]


def file_page(
    runtime: Runtime, tenant: str, store_id: str, query: FileListQuery, batch_id: str | None = None
) -> schemas.ListVectorStoreFilesResponse:
    page = vector_store_files.list_files(
        runtime.db,
        tenant,
        store_id,
        PageRequest(query.limit, query.order, query.after, query.before),
        status=query.filter,
        batch_id=batch_id,
    )
    data = [objects.store_file_object(f) for f in page.items]
    return schemas.ListVectorStoreFilesResponse.page(data, has_more=page.has_more)


@router.get("/files", response_model=schemas.ListVectorStoreFilesResponse)
def list_vector_store_files(
    vector_store_id: str, query: FileList, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.ListVectorStoreFilesResponse:
    """The store's files, optionally only those with one status."""
    return file_page(runtime, tenant, vector_store_id, query)


@router.get("/files/{file_id}", response_model=schemas.VectorStoreFileObject)
def retrieve_vector_store_file(
    vector_store_id: str, file_id: str, response: Response, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.VectorStoreFileObject:
    """One file of the store, with its status and last_error."""
    attached = vector_store_files.get(runtime.db, tenant, vector_store_id, file_id)
    poll_header(response, attached.status == "in_progress")
    return objects.store_file_object(attached)


@router.post("/files/{file_id}", response_model=schemas.VectorStoreFileObject)
def update_vector_store_file_attributes(
    vector_store_id: str,
    file_id: str,
    body: schemas.UpdateVectorStoreFileAttributesRequest,
    runtime: RuntimeDep,
    tenant: TenantDep,
) -> schemas.VectorStoreFileObject:
    """Replace the file's attributes (null clears them); its chunks are filtered by the new ones at once."""
    attached = vector_store_files.update_attributes(runtime.db, tenant, vector_store_id, file_id, body.attributes)
    return objects.store_file_object(attached)


@router.delete("/files/{file_id}", response_model=schemas.DeleteVectorStoreFileResponse)
def delete_vector_store_file(
    vector_store_id: str, file_id: str, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.DeleteVectorStoreFileResponse:
    """Remove the file from this store (its chunks go); the file itself stays."""
    vector_store_files.detach(runtime.db, tenant, vector_store_id, file_id)
    return schemas.DeleteVectorStoreFileResponse(id=file_id, object="vector_store.file.deleted", deleted=True)


@router.get("/files/{file_id}/content", response_model=schemas.VectorStoreFileContentResponse)
def retrieve_vector_store_file_content(
    vector_store_id: str, file_id: str, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.VectorStoreFileContentResponse:
    """The file's parsed text, chunk by chunk."""
    texts = vector_store_files.content(runtime.db, tenant, vector_store_id, file_id)
    data = [schemas.VectorStoreFileContentItem(type="text", text=text) for text in texts]
    return schemas.VectorStoreFileContentResponse(
        object="vector_store.file_content.page", data=data, has_more=False, next_page=None
    )


@router.get("/files/{file_id}/chunks", response_model=schemas.VectorStoreFileChunkList)
def list_vector_store_file_chunks(
    vector_store_id: str, file_id: str, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.VectorStoreFileChunkList:
    """ragstore's own: the file's chunks in order, each with its index, page number (PDFs) and token count."""
    found = vector_store_files.chunks(runtime.db, tenant, vector_store_id, file_id)
    data = [
        schemas.VectorStoreFileChunk(index=c.index, page=c.page, token_count=c.token_count, text=c.text) for c in found
    ]
    return schemas.VectorStoreFileChunkList(data=data)


@router.post("/file_batches", response_model=schemas.VectorStoreFileBatchObject)
def create_vector_store_file_batch(
    vector_store_id: str,
    body: schemas.CreateVectorStoreFileBatchRequest,
    response: Response,
    runtime: RuntimeDep,
    tenant: TenantDep,
) -> schemas.VectorStoreFileBatchObject:
    """Add many files at once, each with its own chunking and attributes if given per file."""
    if body.files is not None:
        specs = [FileSpec(f.file_id, strategy(f.chunking_strategy), f.attributes) for f in body.files]
    else:
        shared = strategy(body.chunking_strategy)
        specs = [FileSpec(file_id, shared, body.attributes) for file_id in body.file_ids or []]
    batch = vector_store_files.create_batch(runtime.db, tenant, vector_store_id, specs)
    poll_header(response, batch.status == "in_progress")
    return objects.batch_object(batch)


@dataclass
class BatchListQuery:
    limit: Limit = 20
    order: Order = "desc"
    after: str | None = None
    before: str | None = None


@router.get("/file_batches", response_model=schemas.ListVectorStoreFileBatchesResponse)
def list_vector_store_file_batches(
    vector_store_id: str, query: Annotated[BatchListQuery, Depends()], runtime: RuntimeDep, tenant: TenantDep
) -> schemas.ListVectorStoreFileBatchesResponse:
    """ragstore's own: the store's file batches, newest first by default, with cursor pagination and file counts."""
    return batch_page(runtime, tenant, vector_store_id, query)


def batch_page(
    runtime: Runtime, tenant: str, store_id: str, query: BatchListQuery
) -> schemas.ListVectorStoreFileBatchesResponse:
    page = vector_store_files.list_batches(
        runtime.db, tenant, store_id, PageRequest(query.limit, query.order, query.after, query.before)
    )
    data = [objects.batch_object(b) for b in page.items]
    return schemas.ListVectorStoreFileBatchesResponse.page(data, has_more=page.has_more)


@router.get("/file_batches/{batch_id}", response_model=schemas.VectorStoreFileBatchObject)
def retrieve_vector_store_file_batch(
    vector_store_id: str, batch_id: str, response: Response, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.VectorStoreFileBatchObject:
    """A batch with exact file counts (the SDK polls until in_progress is 0)."""
    batch = vector_store_files.get_batch(runtime.db, tenant, vector_store_id, batch_id)
    poll_header(response, batch.status == "in_progress")
    return objects.batch_object(batch)


@router.post("/file_batches/{batch_id}/cancel", response_model=schemas.VectorStoreFileBatchObject)
def cancel_vector_store_file_batch(
    vector_store_id: str, batch_id: str, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.VectorStoreFileBatchObject:
    """Cancel the batch's files not yet processed; those already completed stay searchable."""
    return objects.batch_object(vector_store_files.cancel_batch(runtime.db, tenant, vector_store_id, batch_id))


@router.get("/file_batches/{batch_id}/files", response_model=schemas.ListVectorStoreFilesResponse)
def list_files_in_vector_store_batch(
    vector_store_id: str, batch_id: str, query: FileList, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.ListVectorStoreFilesResponse:
    """The batch's files, optionally only those with one status."""
    vector_store_files.get_batch(runtime.db, tenant, vector_store_id, batch_id)
    return file_page(runtime, tenant, vector_store_id, query, batch_id)
