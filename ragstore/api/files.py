"""/v1/files: upload, list, retrieve, download and delete files."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from ragstore.api import objects, schemas
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.errors import FileTooLarge, InvalidRequest
from ragstore.models import PageRequest
from ragstore.service import files

router = APIRouter(prefix="/v1/files", tags=["Files"])

Purpose = Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]
Order = Literal["asc", "desc"]


@router.post("", response_model=schemas.OpenAIFile)
def upload_file(
    request: Request,
    runtime: RuntimeDep,
    tenant: TenantDep,
    file: Annotated[UploadFile, File()],
    purpose: Annotated[Purpose, Form()],
    anchor: Annotated[Literal["created_at"] | None, Form(alias="expires_after[anchor]")] = None,
    seconds: Annotated[int | None, Form(alias="expires_after[seconds]", ge=3600, le=2592000)] = None,
) -> schemas.OpenAIFile:
    """Upload a file (up to 512 MB by default); it can then be added to vector stores."""
    limit = runtime.settings.max_upload_bytes
    if file.size is not None and file.size > limit:
        raise FileTooLarge(f"The file is larger than the limit of {limit} bytes.", param="file")
    if (anchor is None) != (seconds is None):
        raise InvalidRequest("expires_after needs both anchor and seconds.", param="expires_after")
    record = files.upload(
        runtime.db,
        tenant,
        file.filename or "upload",
        file.file,
        purpose,
        expires_after_seconds=seconds,
        max_bytes=limit,
    )
    return objects.file_object(record)


@router.get("", response_model=schemas.ListFilesResponse)
def list_files(
    runtime: RuntimeDep,
    tenant: TenantDep,
    purpose: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 10000,
    order: Order = "desc",
    after: str | None = None,
) -> schemas.ListFilesResponse:
    """Files, newest first by default, with cursor pagination."""
    page = files.list_files(runtime.db, tenant, purpose, PageRequest(limit, order, after))
    return schemas.ListFilesResponse.page([objects.file_object(r) for r in page.items], has_more=page.has_more)


@router.get("/{file_id}", response_model=schemas.OpenAIFile)
def retrieve_file(file_id: str, runtime: RuntimeDep, tenant: TenantDep) -> schemas.OpenAIFile:
    """One file's information."""
    return objects.file_object(files.get(runtime.db, tenant, file_id))


@router.get(
    "/{file_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
)
def download_file(file_id: str, runtime: RuntimeDep, tenant: TenantDep) -> StreamingResponse:
    """The file's bytes, exactly as uploaded."""
    record = files.get(runtime.db, tenant, file_id)
    return StreamingResponse(
        files.stream_bytes(runtime.db, tenant, file_id),
        media_type="application/octet-stream",
        headers={"Content-Length": str(record.bytes)},
    )


@router.delete("/{file_id}", response_model=schemas.DeleteFileResponse)
def delete_file(file_id: str, runtime: RuntimeDep, tenant: TenantDep) -> schemas.DeleteFileResponse:
    """Delete a file, and remove it and its chunks from every vector store."""
    files.delete(runtime.db, tenant, file_id)
    return schemas.DeleteFileResponse(id=file_id, object="file", deleted=True)
