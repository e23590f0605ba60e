"""One error hierarchy for the whole service.

Each class carries its HTTP status, its OpenAI error ``type`` and ``code``; its docstring is the default
message. The API renders any of them as the OpenAI error envelope in one place (``api/errors.py``), the CLI
prints the message. Nothing below ``api/`` raises HTTP exceptions.
"""

from __future__ import annotations


class RagstoreError(Exception):
    """An internal error occurred."""

    status = 500
    type = "server_error"
    code: str | None = "server_error"

    def __init__(self, message: str | None = None, *, param: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        self.param = param
        super().__init__(self.message)

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the error's response carries."""
        return {}


class ConfigurationError(RagstoreError):
    """The server is misconfigured."""

    code = "configuration_error"


class DatabaseUnavailable(RagstoreError):
    """The database is not reachable; retry shortly."""

    status = 503
    code = "database_unavailable"
    retry_after = 2  # seconds: about what a PostgreSQL restart takes

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InsufficientStorage(RagstoreError):
    """There is no space left to store this; nothing of it was kept."""

    status = 507
    code = "insufficient_storage"


class PgvectorMissing(ConfigurationError):
    """The database has no usable pgvector extension."""


class InvalidRequest(RagstoreError):
    """The request is invalid."""

    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class DatabaseLimitExceeded(InvalidRequest):
    """The request exceeds a limit of the database (a value too long to index, a text too long to search): send less;
    the same request would fail again."""

    code = "limit_exceeded"


class NotFound(RagstoreError):
    """No such object."""

    status = 404
    type = "invalid_request_error"
    code = "not_found"


class VectorStoreNotFound(NotFound):
    """No such vector store."""


class FileNotFound(NotFound):
    """No such file."""


class ConversationNotFound(NotFound):
    """No such conversation."""


class MessageNotFound(NotFound):
    """No such message."""


class Conflict(RagstoreError):
    """The request conflicts with the current state; retry it."""

    status = 409
    type = "invalid_request_error"
    code = "conflict"


class FileTooLarge(InvalidRequest):
    """The file is too large."""

    status = 413
    code = "file_too_large"


class RequestTooLarge(InvalidRequest):
    """The request's body is larger than its route allows (api/limits.py; an upload: RAGSTORE_MAX_UPLOAD_BYTES):
    refused unread, or as soon as the limit is passed."""

    status = 413
    code = "request_too_large"

    @property
    def headers(self) -> dict[str, str]:
        # The server then closes the connection instead of reading the rest of the body to keep it alive.
        return {"Connection": "close"}


class Unauthorized(RagstoreError):
    """Incorrect API key provided."""

    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class PermissionDenied(RagstoreError):
    """You are not allowed to do this."""

    status = 403
    type = "invalid_request_error"
    code = "permission_denied"


class RateLimited(RagstoreError):
    """Too many requests for this API key; retry later."""

    status = 429
    type = "requests"
    code = "rate_limit_exceeded"

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Rate limit reached for this API key: retry in {retry_after:.1f} s.")
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, round(self.retry_after + 0.5)))}


class AmbiguousName(InvalidRequest):
    """More than one vector store has this name; use its id."""


class FileError(RagstoreError):
    """A file could not be ingested; recorded as the file's last_error, never fatal to its batch."""

    status = 400
    type = "invalid_request_error"


class UnsupportedFile(FileError):
    """This file type is not supported."""

    code = "unsupported_file"


class InvalidFile(FileError):
    """The file is damaged or unreadable."""

    code = "invalid_file"


class EmbeddingError(RagstoreError):
    """The embedding model failed."""

    code = "server_error"


class UpstreamError(RagstoreError):
    """The language model endpoint failed; retry later."""

    status = 502
    type = "api_error"
    code = "llm_error"


class ResponseNotFound(NotFound):
    """No such response."""


class RerankError(UpstreamError):
    """The reranking endpoint failed; retry later, or search without ranking_options.rerank."""

    code = "rerank_error"
