"""Settings: the one place that reads the environment (prefix RAGSTORE_). Built at the edge, passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# The provider_id of the server's own embedding model (RAGSTORE_EMBEDDING_MODEL).
LOCAL_PROVIDER = "local"


class EmbeddingProvider(BaseModel):
    """A named OpenAI-compatible /embeddings endpoint (RAGSTORE_EMBEDDING_PROVIDERS). The key stays in the
    environment: api_key_env names the variable that holds it, which is all a store records."""

    model_config = ConfigDict(extra="forbid")

    base_url: str
    api_key_env: str | None = None


class Settings(BaseSettings):
    """ragstore's configuration; every field can be set as RAGSTORE_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="RAGSTORE_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostgreSQL 15+ with pgvector; unset: an embedded server in data_dir"
    )
    database_replica_urls: str | None = Field(
        default=None,
        description="streaming replicas of the database (comma-separated URLs) that serve searches, listings and reads",
    )
    replica_max_lag_seconds: float = Field(
        default=10.0, gt=0, description="a replica whose replay lags the primary by more is out of rotation"
    )
    data_dir: Path = Field(default=Path("~/.ragstore"), description="embedded database and local state")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    embedding_model: str = Field(default=DEFAULT_MODEL, description="model name recorded on every store")
    embedding_base_url: str | None = Field(
        default=None, description="an OpenAI-compatible /embeddings endpoint; unset: the local model"
    )
    embedding_api_key: str | None = None
    embedding_dimensions: int = Field(
        default=384, ge=1, le=4000, description="the dimension of the server's model (of new stores by default)"
    )
    embedding_providers: dict[str, EmbeddingProvider] = Field(
        default_factory=dict,
        description="named OpenAI-compatible /embeddings endpoints a store may be created with, as JSON: "
        '{"openai": {"base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY"}}',
    )
    embedding_batch_size: int = Field(default=32, ge=1, le=2048)
    embedding_backend: Literal["onnx-int8", "torch"] = Field(
        default="onnx-int8",
        description="the local model: int8 ONNX Runtime (about 2.5 times faster) or exact fp32 PyTorch",
    )
    model_cache_dir: Path = Field(
        default=Path("~/.cache/ragstore"), description="where the int8 model is made once and kept"
    )

    api_key: str | None = Field(
        default=None, description="the Bearer key every API request must carry; unset: no key is asked for"
    )
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1, description="largest file accepted")
    admin_key: str | None = Field(default=None, description="the Bearer key of /v1/admin; unset: no admin API")
    rate_limit_per_minute: int = Field(default=0, ge=0, description="requests per minute per API key; 0: no limit")
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how long a process remembers a live API key's tenant (0: a lookup per request); a key revoked "
        "in another process is refused there within this long",
    )

    text_search_language: str = Field(
        default="english", description="PostgreSQL text-search configuration (stemming, stop words) of new stores"
    )
    llm_base_url: str | None = Field(
        default=None, description="an OpenAI-compatible /chat/completions endpoint; unset: extractive answers"
    )
    llm_model: str = Field(default="gpt-4o-mini", description="the chat model asked for at llm_base_url")
    llm_api_key: str | None = None
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    llm_tools: bool = Field(
        default=True,
        description="offer the model file_search as a function (/v1/responses); off: the input is searched first",
    )

    rerank_base_url: str | None = Field(
        default=None, description="a Cohere/Jina/TEI-style POST /rerank endpoint; unset: no reranking"
    )
    rerank_model: str = Field(default="rerank", description="the reranking model asked for at rerank_base_url")
    rerank_api_key: str | None = None
    rerank_by_default: bool = Field(
        default=False, description="rerank every search unless its ranking_options.rerank is false"
    )
    rerank_candidates: int = Field(default=50, ge=1, le=100, description="how many top hits the reranker reorders")
    rerank_timeout_seconds: float = Field(default=30.0, gt=0)
    training_min_rating: int = Field(
        default=4, ge=1, le=6, description="ratings at or above it make an answer a training candidate; 6: never"
    )

    workers: int = Field(default=1, ge=0, le=64, description="in-process ingestion workers of `serve`")
    ingest_niceness: int = Field(
        default=10,
        ge=0,
        le=19,
        description="how much lower than searches ingestion's threads run (Linux nice values); 0: the same",
    )
    job_max_attempts: int = Field(default=3, ge=1, le=100)
    pool_size: int = Field(default=8, ge=2, le=200)
    chunk_partitions: int = Field(
        default=16, ge=1, le=1024, description="hash partitions of the chunks table, fixed when first migrated"
    )
    shutdown_grace_seconds: float = Field(
        default=20.0, ge=0, description="on SIGTERM, how long requests, then running jobs, may take to finish"
    )
    log_format: Literal["json", "text"] | None = Field(
        default=None, description="json or text log lines; unset: json for `serve` and `worker`, text otherwise"
    )
    cache_embedding_ttl_seconds: int = Field(
        default=86400, ge=0, description="how long a query's embedding stays cached; 0: not cached"
    )
    cache_search_ttl_seconds: int = Field(
        default=60, ge=0, description="how long search results stay cached (a write to a store misses them); 0: off"
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis holding the cache and the rate limits, shared by every process; unset: in-process ones",
    )

    @field_validator("data_dir", "model_cache_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(
                f"RAGSTORE_REDIS_URL must be a redis://, rediss:// or unix:// URL, got {redact_url(value)!r}"
            )
        return value or None

    @field_validator("embedding_providers")
    @classmethod
    def _check_providers(cls, value: dict[str, EmbeddingProvider]) -> dict[str, EmbeddingProvider]:
        if LOCAL_PROVIDER in value:
            raise ValueError(f"RAGSTORE_EMBEDDING_PROVIDERS: {LOCAL_PROVIDER!r} is the server's own model's name")
        for name, provider in value.items():
            if urlsplit(provider.base_url).scheme not in ("http", "https"):
                raise ValueError(f"RAGSTORE_EMBEDDING_PROVIDERS: {name}'s base_url is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _check_embedder(self) -> Settings:
        if self.embedding_base_url is None and self.embedding_model != DEFAULT_MODEL:
            raise ValueError(
                f"RAGSTORE_EMBEDDING_MODEL={self.embedding_model!r} needs RAGSTORE_EMBEDDING_BASE_URL: "
                f"the only local model is {DEFAULT_MODEL}"
            )
        return self

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def replica_urls(self) -> list[str]:
        """RAGSTORE_DATABASE_REPLICA_URLS, split at its commas."""
        return [url.strip() for url in (self.database_replica_urls or "").split(",") if url.strip()]


def secret(name: str) -> str | None:
    """An environment variable named by configuration stored elsewhere (an embedding space's api_key_env): keys
    stay in the environment of the processes that use them, never in the database."""
    return os.environ.get(name) or None


def redact_url(url: str) -> str:
    """The URL without its password, fit for logs and `doctor`."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
