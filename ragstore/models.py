"""Frozen records shared by the layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")

DEFAULT_TENANT = "ten_default"


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed: never the key itself, which is shown once, when it is made."""

    id: str
    tenant_id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class FileRecord:
    id: str
    filename: str
    purpose: str
    bytes: int
    sha256: str
    created_at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class FileCounts:
    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    total: int = 0


@dataclass(frozen=True)
class VectorStore:
    id: str
    name: str
    embedding_model: str
    embedding_dim: int
    created_at: datetime
    text_search_language: str = "english"
    description: str | None = None
    metadata: dict[str, str] | None = None
    expires_after: dict[str, Any] | None = None
    expires_at: datetime | None = None
    last_active_at: datetime | None = None
    usage_bytes: int = 0
    file_counts: FileCounts = FileCounts()
    active_space_id: str | None = None  # None: chunks.embedding, the store's first space
    provider_id: str | None = "local"  # the endpoint of its active space ('local': this server's own model)
    content_fingerprint: int = 0  # changes with every write to its attachments (and so chunks): the cache's key

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= datetime.now(UTC)

    @property
    def status(self) -> str:
        if self.expired:
            return "expired"
        return "in_progress" if self.file_counts.in_progress else "completed"


@dataclass(frozen=True)
class VectorStoreFile:
    file_id: str
    vector_store_id: str
    batch_id: str | None
    status: str
    chunk_size_tokens: int
    chunk_overlap_tokens: int
    attributes: dict[str, Any] | None
    usage_bytes: int
    last_error_code: str | None
    last_error_message: str | None
    created_at: datetime
    attach_id: str = ""


@dataclass(frozen=True)
class FileBatch:
    id: str
    vector_store_id: str
    cancelled: bool
    created_at: datetime
    file_counts: FileCounts

    @property
    def status(self) -> str:
        counts = self.file_counts
        if counts.in_progress:
            return "in_progress"
        if self.cancelled:
            return "cancelled"
        return "failed" if counts.total and counts.failed == counts.total else "completed"


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list: OpenAI's limit, order, after and before."""

    limit: int = 20
    order: str = "desc"
    after: str | None = None
    before: str | None = None

    @property
    def cursor(self) -> str | None:
        return self.after or self.before


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and whether more lie beyond it."""

    items: list[T]
    has_more: bool


@dataclass(frozen=True)
class DocumentMatch:
    """A row of the seeds' match_documents: a chunk, its attributes as `metadata`, its cosine similarity."""

    id: int
    content: str
    metadata: dict[str, Any]
    similarity: float
    vector_store_id: str
    file_id: str


@dataclass(frozen=True)
class FileFailure:
    filename: str
    code: str
    message: str


@dataclass(frozen=True)
class Job:
    id: int
    tenant_id: str
    kind: str
    args: dict[str, Any]
    attempts: int
    max_attempts: int


@dataclass(frozen=True)
class SearchHit:
    chunk_id: int
    vector_store_id: str
    file_id: str
    filename: str
    chunk_index: int
    page: int | None
    text: str
    score: float
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileChunk:
    """One chunk of a file in a store, as read back: its place in the file, its page (PDF) and its text."""

    index: int
    page: int | None
    text: str
    token_count: int


# ---------------------------------------------------------------------------------------------------------------------
# Chat memory and learning


@dataclass(frozen=True)
class Conversation:
    id: str
    user_id: str | None
    title: str | None
    metadata: dict[str, str] | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Passage:
    """A chunk given to (or found for) an answer, as recorded in its context: enough to cite and to train on."""

    chunk_id: str
    file_id: str
    filename: str
    vector_store_id: str
    score: float
    excerpt: str


@dataclass(frozen=True)
class Feedback:
    id: str
    message_id: str
    conversation_id: str
    rating: int
    comment: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    position: int
    role: str
    content: str
    created_at: datetime
    model: str | None = None
    vector_store_ids: tuple[str, ...] = ()
    context_used: tuple[Passage, ...] = ()
    unused_context: tuple[Passage, ...] = ()
    feedback: Feedback | None = None


@dataclass(frozen=True)
class TrainingExample:
    """A snapshot of one rated or hand-picked exchange: the chat as the model saw it, and its retrieval."""

    id: str
    message_id: str | None
    conversation_id: str | None
    source: str
    status: str
    rating: int | None
    query: str
    answer: str
    messages: list[dict[str, Any]]
    context_used: tuple[Passage, ...]
    unused_context: tuple[Passage, ...]
    vector_store_ids: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    model: str | None = None  # the model that wrote the answer


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    example_count: int = 0


# ---------------------------------------------------------------------------------------------------------------------
# Embedding spaces


@dataclass(frozen=True)
class EmbeddingSpace:
    """A store's embeddings by one model: its first in chunks.embedding (location `chunks`), later ones in
    chunk_vectors (location `vectors`). state: building, ready, active, previous (the way back) or dropped."""

    id: str
    vector_store_id: str
    model: str
    dimension: int
    base_url: str | None
    api_key_env: str | None
    location: str
    state: str
    created_at: datetime
    switched_at: datetime | None = None
    provider_id: str | None = None  # a RAGSTORE_EMBEDDING_PROVIDERS name, 'local' (the server's model) or None

    @property
    def in_chunks(self) -> bool:
        return self.location == "chunks"
