"""Wire models for the OpenAI Files + Vector Stores API, named after the components of OpenAI's OpenAPI spec
(tests/api/reference/openai_vector_stores_openapi.yaml): files, vector stores, their files and batches, stats.

How a field is required, nullable or omittable, and how a response is dumped: api/base.py.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import (
    ConfigDict,
    Field,
    StrictInt,
    model_validator,
)

from ragstore.api import limits
from ragstore.api.base import (
    ListEnvelope,
    Metadata,
    ObjectId,
    Omittable,
    RequestModel,
    VectorStoreFileAttributes,
    WireModel,
)

# ---------------------------------------------------------------------------------------------------------------------
# Chunking strategies


class StaticChunkingStrategy(WireModel):
    model_config = ConfigDict(extra="forbid")

    max_chunk_size_tokens: StrictInt = Field(ge=100, le=4096)
    chunk_overlap_tokens: StrictInt = Field(ge=0)

    @model_validator(mode="after")
    def _overlap_at_most_half(self) -> Self:
        if self.chunk_overlap_tokens * 2 > self.max_chunk_size_tokens:
            raise ValueError("chunk_overlap_tokens must not exceed half of max_chunk_size_tokens")
        return self


class AutoChunkingStrategyRequestParam(RequestModel):
    type: Literal["auto"]


class StaticChunkingStrategyRequestParam(RequestModel):
    type: Literal["static"]
    static: StaticChunkingStrategy


ChunkingStrategyRequestParam = Annotated[
    AutoChunkingStrategyRequestParam | StaticChunkingStrategyRequestParam, Field(discriminator="type")
]


class StaticChunkingStrategyResponseParam(WireModel):
    type: Literal["static"] = "static"
    static: StaticChunkingStrategy


class OtherChunkingStrategyResponseParam(WireModel):
    type: Literal["other"] = "other"


ChunkingStrategyResponseParam = Annotated[
    StaticChunkingStrategyResponseParam | OtherChunkingStrategyResponseParam, Field(discriminator="type")
]


# ---------------------------------------------------------------------------------------------------------------------
# Files


class FileExpirationAfter(RequestModel):
    anchor: Literal["created_at"]
    seconds: StrictInt = Field(ge=3600, le=2592000)


OpenAIFilePurpose = Literal[
    "assistants",
    "assistants_output",
    "batch",
    "batch_output",
    "fine-tune",
    "fine-tune-results",
    "vision",
    "user_data",
    "evals",
]
"""`OpenAIFile.purpose`: the spec's list, plus `evals`, which the spec's own upload request accepts; a file reports
the purpose it was uploaded with."""


class OpenAIFile(WireModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    expires_at: Omittable[int] = None
    filename: str
    purpose: OpenAIFilePurpose
    status: Literal["uploaded", "processed", "error"]
    status_details: Omittable[str] = None


class DeleteFileResponse(WireModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool


# ---------------------------------------------------------------------------------------------------------------------
# Vector stores


class VectorStoreExpirationAfter(RequestModel):
    anchor: Literal["last_active_at"]
    days: StrictInt = Field(ge=1, le=365)


class VectorStoreFileCounts(WireModel):
    """The `file_counts` of a vector store and of a file batch (the same five integers in both)."""

    in_progress: int
    completed: int
    failed: int
    cancelled: int
    total: int


class CreateVectorStoreRequest(RequestModel):
    file_ids: Omittable[list[ObjectId]] = Field(None, max_length=limits.STORE_FILE_IDS)
    name: Omittable[str] = Field(None, max_length=limits.NAME_CHARS)
    description: Omittable[str] = Field(None, max_length=limits.DESCRIPTION_CHARS)
    expires_after: Omittable[VectorStoreExpirationAfter] = None
    chunking_strategy: Omittable[ChunkingStrategyRequestParam] = None
    metadata: Metadata | None = None
    # ragstore's extensions (OGX's names): the store's embedding model, its dimension and the endpoint serving it
    # (a RAGSTORE_EMBEDDING_PROVIDERS name, or `local`); omitted: the server's model.
    embedding_model: Omittable[str] = Field(None, min_length=1, max_length=200)
    embedding_dimension: Omittable[int] = Field(None, ge=1, le=4000)
    provider_id: Omittable[str] = Field(None, min_length=1, max_length=100)


class UpdateVectorStoreRequest(RequestModel):
    """Every field is nullable: an explicit `null` clears it, an omitted field is left alone.

    Tell the two apart with `model_fields_set`: a field is in it when it was sent, even as `null`.
    """

    name: str | None = Field(None, max_length=limits.NAME_CHARS)
    expires_after: VectorStoreExpirationAfter | None = None
    metadata: Metadata | None = None


class VectorStoreObject(WireModel):
    id: str
    object: Literal["vector_store"] = "vector_store"
    created_at: int
    name: str
    usage_bytes: int
    file_counts: VectorStoreFileCounts
    status: Literal["expired", "in_progress", "completed"]
    expires_after: Omittable[VectorStoreExpirationAfter] = None
    expires_at: int | None = None
    last_active_at: int | None
    metadata: Metadata | None
    # ragstore's extensions: the store's embedding space (its active one, after a re-embedding).
    embedding_model: str
    embedding_dimension: int
    provider_id: str | None


class DeleteVectorStoreResponse(WireModel):
    id: str
    object: Literal["vector_store.deleted"] = "vector_store.deleted"
    deleted: bool


# ---------------------------------------------------------------------------------------------------------------------
# Vector store files and file batches


class CreateVectorStoreFileRequest(RequestModel):
    file_id: ObjectId
    chunking_strategy: Omittable[ChunkingStrategyRequestParam] = None
    attributes: VectorStoreFileAttributes | None = None


class UpdateVectorStoreFileAttributesRequest(RequestModel):
    attributes: VectorStoreFileAttributes | None


class CreateVectorStoreFileBatchRequest(RequestModel):
    """Either `file_ids` (sharing the top-level `chunking_strategy` and `attributes`) or `files`, never both.

    With `files`, the top-level `chunking_strategy` and `attributes` are ignored, as OpenAI documents.
    """

    file_ids: Omittable[list[ObjectId]] = Field(None, min_length=1, max_length=limits.BATCH_FILES)
    files: Omittable[list[CreateVectorStoreFileRequest]] = Field(None, min_length=1, max_length=limits.BATCH_FILES)
    chunking_strategy: Omittable[ChunkingStrategyRequestParam] = None
    attributes: VectorStoreFileAttributes | None = None

    @model_validator(mode="after")
    def _file_ids_xor_files(self) -> Self:
        if (self.file_ids is None) == (self.files is None):
            raise ValueError("exactly one of 'file_ids' or 'files' must be given")
        return self


class VectorStoreFileLastError(WireModel):
    code: Literal["server_error", "unsupported_file", "invalid_file"]
    message: str


class VectorStoreFileObject(WireModel):
    id: str
    object: Literal["vector_store.file"] = "vector_store.file"
    usage_bytes: int
    created_at: int
    vector_store_id: str
    status: Literal["in_progress", "completed", "cancelled", "failed"]
    last_error: VectorStoreFileLastError | None
    chunking_strategy: Omittable[ChunkingStrategyResponseParam] = None
    attributes: VectorStoreFileAttributes | None = None


class DeleteVectorStoreFileResponse(WireModel):
    id: str
    object: Literal["vector_store.file.deleted"] = "vector_store.file.deleted"
    deleted: bool


class VectorStoreFileBatchObject(WireModel):
    id: str
    object: Literal["vector_store.files_batch"] = "vector_store.files_batch"
    created_at: int
    vector_store_id: str
    status: Literal["in_progress", "completed", "cancelled", "failed"]
    file_counts: VectorStoreFileCounts


class VectorStoreFileContentItem(WireModel):
    type: Literal["text"] = "text"
    text: str


class VectorStoreFileContentResponse(WireModel):
    object: Literal["vector_store.file_content.page"] = "vector_store.file_content.page"
    data: list[VectorStoreFileContentItem]
    has_more: bool
    next_page: str | None


class VectorStoreFileChunk(WireModel):
    """ragstore's own: one chunk of a file in a store, with its place (0-based), page (PDFs) and token count."""

    object: Literal["vector_store.file.chunk"] = "vector_store.file.chunk"
    index: int
    page: int | None
    token_count: int
    text: str


class VectorStoreFileChunkList(WireModel):
    object: Literal["list"] = "list"
    data: list[VectorStoreFileChunk]


# ---------------------------------------------------------------------------------------------------------------------
# Lists and errors


class VectorStoreStats(WireModel):
    """ragstore's own: a tenant's totals (`GET /v1/vector_stores/stats`)."""

    object: Literal["vector_store.stats"]
    vector_stores: int
    expired_stores: int
    files: int
    file_bytes: int
    usage_bytes: int
    file_batches: int
    files_by_status: dict[str, int]
    file_batches_by_status: dict[str, int]


class ListVectorStoreFileBatchesResponse(ListEnvelope):
    """ragstore's own: a store's file batches (`GET /v1/vector_stores/{id}/file_batches`)."""

    data: list[VectorStoreFileBatchObject]


class DayUsage(WireModel):
    day: str  # YYYY-MM-DD, UTC
    files_added: int
    bytes_added: int
    files: int  # at the day's end
    file_bytes: int
    usage_bytes: int


class VectorStoreDailyStats(WireModel):
    """ragstore's own: a tenant's files and storage per day (`GET /v1/vector_stores/stats/daily`)."""

    object: Literal["vector_store.stats.daily"]
    days: list[DayUsage]


class ListFilesResponse(ListEnvelope):
    data: list[OpenAIFile]


class ListVectorStoresResponse(ListEnvelope):
    data: list[VectorStoreObject]


class ListVectorStoreFilesResponse(ListEnvelope):
    data: list[VectorStoreFileObject]
