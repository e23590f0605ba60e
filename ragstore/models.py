"""Frozen records shared by the layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DEFAULT_TENANT = "ten_default"


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
class VectorStore:
    id: str
    name: str
    embedding_model: str
    embedding_dim: int
    created_at: datetime


@dataclass(frozen=True)
class FileCounts:
    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    total: int = 0


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
