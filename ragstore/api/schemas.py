"""Wire models for the OpenAI Files + Vector Stores API, named after the components of OpenAI's OpenAPI spec.

The contract is tests/api/reference/openai_vector_stores_openapi.yaml. Three kinds of field appear there:

- required (nullable or not): a field without a default, always serialized, as `null` when nullable and None;
- optional and nullable (`metadata` on a request, `expires_at` on a vector store): `X | None = None`, serialized as
  `null` when None;
- optional and NOT nullable (`expires_after`, `chunking_strategy`, `OpenAIFile.expires_at`): `Omittable[X] = None`.
  On a response, None means "absent" and the key is dropped by `WireModel`'s serializer; on a request, an explicit
  `null` is rejected.

So a response is dumped with a plain `model.model_dump(mode="json")` (or returned to FastAPI as a `response_model`):
never pass `exclude_none`, `exclude_unset` or `exclude_defaults`, which would drop required keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    model_serializer,
    model_validator,
)

from ragstore.service import search

T = TypeVar("T")


class _OmitWhenNone:
    """Marks a field that the spec makes optional but not nullable."""

    def __repr__(self) -> str:
        return "OMIT_WHEN_NONE"


OMIT_WHEN_NONE = _OmitWhenNone()
Omittable = Annotated[T | None, OMIT_WHEN_NONE]
"""An optional, non-nullable field: None on a response drops the key; `null` in a request is rejected."""


class WireModel(BaseModel):
    """Base of every wire model: serializes `Omittable` fields only when they hold a value."""

    omittable_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.omittable_fields = frozenset(
            name
            for name, field in cls.model_fields.items()
            if any(marker is OMIT_WHEN_NONE for marker in field.metadata)
        )

    # No return annotation: pydantic would otherwise publish that type as the model's serialization JSON schema.
    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler):
        data = handler(self)
        for name in self.omittable_fields:
            if name in data and data[name] is None:
                del data[name]
        return data


class RequestModel(WireModel):
    """Base of request bodies: unknown fields are rejected (`additionalProperties: false`)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _reject_null(self) -> Self:
        for name in sorted(self.model_fields_set & self.omittable_fields):
            if getattr(self, name) is None:
                raise ValueError(f"'{name}' may be omitted but must not be null")
        return self


# ---------------------------------------------------------------------------------------------------------------------
# Maps: metadata and attributes

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Scalar = StrictBool | StrictInt | FiniteFloat | StrictStr
"""A JSON string, number or boolean; strict so that `true` stays a bool and `1` stays an int."""


def _check_map(value: dict[str, Any], *, what: str, max_value_chars: int) -> dict[str, Any]:
    if len(value) > 16:
        raise ValueError(f"{what} may hold at most 16 key-value pairs, got {len(value)}")
    for key, item in value.items():
        if len(key) > 64:
            raise ValueError(f"{what} keys may be at most 64 characters, {key[:16]!r}... has {len(key)}")
        if isinstance(item, str) and len(item) > max_value_chars:
            raise ValueError(f"{what} values may be at most {max_value_chars} characters, {key!r} has {len(item)}")
    return value


def _check_metadata(value: dict[str, str]) -> dict[str, str]:
    return _check_map(value, what="metadata", max_value_chars=512)


def _check_attributes(value: dict[str, Scalar]) -> dict[str, Scalar]:
    return _check_map(value, what="attributes", max_value_chars=512)


Metadata = Annotated[dict[str, str], AfterValidator(_check_metadata)]
"""Up to 16 string pairs, keys <= 64 characters, values <= 512. The spec's `Metadata` is also nullable: use `| None`."""

VectorStoreFileAttributes = Annotated[dict[str, Scalar], AfterValidator(_check_attributes)]
"""Up to 16 keys <= 64 characters; values are strings (<= 512), numbers or booleans. Nullable in the spec too."""


# ---------------------------------------------------------------------------------------------------------------------
# Chunking strategies


class StaticChunkingStrategy(WireModel):
    model_config = ConfigDict(extra="forbid")

    max_chunk_size_tokens: int = Field(ge=100, le=4096)
    chunk_overlap_tokens: int = Field(ge=0)

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
    seconds: int = Field(ge=3600, le=2592000)


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
    days: int = Field(ge=1, le=365)


class VectorStoreFileCounts(WireModel):
    """The `file_counts` of a vector store and of a file batch (the same five integers in both)."""

    in_progress: int
    completed: int
    failed: int
    cancelled: int
    total: int


class CreateVectorStoreRequest(RequestModel):
    file_ids: Omittable[list[str]] = Field(None, max_length=500)
    name: Omittable[str] = None
    description: Omittable[str] = None
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

    name: str | None = None
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
    file_id: str
    chunking_strategy: Omittable[ChunkingStrategyRequestParam] = None
    attributes: VectorStoreFileAttributes | None = None


class UpdateVectorStoreFileAttributesRequest(RequestModel):
    attributes: VectorStoreFileAttributes | None


class CreateVectorStoreFileBatchRequest(RequestModel):
    """Either `file_ids` (sharing the top-level `chunking_strategy` and `attributes`) or `files`, never both.

    With `files`, the top-level `chunking_strategy` and `attributes` are ignored, as OpenAI documents.
    """

    file_ids: Omittable[list[str]] = Field(None, min_length=1, max_length=2000)
    files: Omittable[list[CreateVectorStoreFileRequest]] = Field(None, min_length=1, max_length=2000)
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
# Search


class ComparisonFilter(RequestModel):
    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
    key: str
    value: Scalar | list[StrictInt | FiniteFloat | StrictStr]


class CompoundFilter(RequestModel):
    type: Literal["and", "or"]
    filters: list[Filter]


Filter = Annotated[ComparisonFilter | CompoundFilter, Field(discriminator="type")]
"""A comparison or a compound filter, told apart by `type`."""

CompoundFilter.model_rebuild()


class RankingOptions(RequestModel):
    # `lexical` (BM25 alone) is ragstore's extension; OpenAI's are none (dense alone), auto and default-2024-11-15.
    # OGX's (ragstore's extensions too): `rrf` (reciprocal rank fusion, k = impact_factor) and `weighted` (alpha *
    # dense + (1 - alpha) * lexical, each min-max scaled), both hybrid.
    ranker: Literal["none", "auto", "default-2024-11-15", "lexical", "rrf", "weighted"] = "auto"
    impact_factor: float = Field(60.0, gt=0, le=10_000)
    alpha: float = Field(0.5, ge=0, le=1)
    score_threshold: float = Field(0, ge=0, le=1)
    # ragstore's extension: reorder the top hits with the reranker at RAGSTORE_RERANK_BASE_URL (vector store search
    # only); unset: RAGSTORE_RERANK_BY_DEFAULT decides.
    rerank: bool | None = None


class VectorStoreSearchRequest(RequestModel):
    query: str | Annotated[list[str], Field(min_length=1)]
    rewrite_query: bool = False
    max_num_results: int = Field(10, ge=1, le=search.MAX_RESULTS)
    filters: Omittable[Filter] = None
    ranking_options: Omittable[RankingOptions] = None
    # OGX's extension: vector (dense), keyword (lexical) or hybrid (ranking_options.ranker's fusion, else auto's).
    search_mode: Omittable[Literal["vector", "keyword", "hybrid"]] = None


class VectorStoreSearchResultContentObject(WireModel):
    type: Literal["text"] = "text"
    text: str


class VectorStoreSearchResultItem(WireModel):
    file_id: str
    filename: str
    score: float = Field(ge=0, le=1)
    attributes: VectorStoreFileAttributes | None
    content: list[VectorStoreSearchResultContentObject]


class VectorStoreSearchResultsPage(WireModel):
    object: Literal["vector_store.search_results.page"] = "vector_store.search_results.page"
    search_query: list[str]
    data: list[VectorStoreSearchResultItem]
    has_more: bool
    next_page: str | None


# ---------------------------------------------------------------------------------------------------------------------
# Lists and errors


class ListEnvelope(WireModel):
    """`{"object": "list", "data", "first_id", "last_id", "has_more"}`; subclasses type `data`.

    The spec types `first_id`/`last_id` as required non-nullable strings, so an empty page carries "" in both.
    """

    object: Literal["list"] = "list"
    data: Sequence[Any]
    first_id: str
    last_id: str
    has_more: bool

    @classmethod
    def page(cls, data: Sequence[Any], *, has_more: bool) -> Self:
        """Wrap one page of objects that have an `id`."""
        first_id = data[0].id if data else ""
        last_id = data[-1].id if data else ""
        return cls(data=data, first_id=first_id, last_id=last_id, has_more=has_more)


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


class ListFilesResponse(ListEnvelope):
    data: list[OpenAIFile]


class ListVectorStoresResponse(ListEnvelope):
    data: list[VectorStoreObject]


class ListVectorStoreFilesResponse(ListEnvelope):
    data: list[VectorStoreFileObject]


class Error(WireModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(WireModel):
    error: Error
