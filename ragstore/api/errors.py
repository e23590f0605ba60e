"""The one place errors become HTTP responses: OpenAI's envelope {"error": {message, type, param, code}}."""

from __future__ import annotations

import errno
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ragstore.api.base import ErrorResponse
from ragstore.errors import InsufficientStorage, RagstoreError, RequestTooLarge

log = logging.getLogger(__name__)

# The first part of a validation error's location: which part of the request held the value.
SOURCES = ("body", "query", "path", "header", "cookie")

# What every route documents besides its success: any error comes in the envelope (400 for invalid input, as
# OpenAI's API does, not FastAPI's 422; 503 when the database is unavailable, which is worth a retry; 507 when a disk
# is full, and nothing of the request was kept).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorResponse, "description": "The request was refused; the error envelope says why."},
    "5XX": {
        "model": ErrorResponse,
        "description": "The server failed (503: the database is unavailable, retry after Retry-After; 507: no space "
        "left to store the request).",
    },
}


# The Supabase-style routes (api/rpc.py) answer errors as PostgREST does, the shape supabase-py reads into APIError.
POSTGREST_PREFIX = "/rest/"


def envelope(status: int, message: str, type_: str, param: str | None, code: str | None) -> JSONResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


def postgrest_error(status: int, message: str, param: str | None, code: str | None) -> JSONResponse:
    """PostgREST's error body: {"code", "details", "hint", "message"}; code is ragstore's (e.g. invalid_api_key)."""
    details = f"param: {param}" if param else None
    return JSONResponse({"code": code, "details": details, "hint": None, "message": message}, status_code=status)


def render(
    request: Request, status: int, message: str, type_: str, param: str | None, code: str | None
) -> JSONResponse:
    """The error in the envelope of the route's family: OpenAI's, or PostgREST's under /rest/."""
    if request.url.path.startswith(POSTGREST_PREFIX):
        return postgrest_error(status, message, param, code)
    return envelope(status, message, type_, param, code)


def body_failure(exc: BaseException | None) -> RagstoreError | None:
    """Why a request's body could not be read, if ragstore knows: a local disk that filled up (the temporary
    directory uploads are spooled to: 507), or a body that streamed past the size limit (413)."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return InsufficientStorage("The server has no space left to receive this request; nothing of it was kept.")
        if isinstance(exc, RequestTooLarge):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def install(app: FastAPI) -> None:
    """Render ragstore errors, validation errors and anything unexpected in the envelope."""

    @app.exception_handler(RagstoreError)
    async def ragstore_error(request: Request, exc: RagstoreError) -> JSONResponse:
        if exc.status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
        response = render(request, exc.status, exc.message, exc.type, exc.param, exc.code)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        location = list(first["loc"])
        if location and location[0] in SOURCES:  # where the value came from, not part of its name
            location = location[1:]
        param = ".".join(str(part) for part in location)
        return render(
            request,
            400,
            f"Invalid '{param}': {first['msg']}.",
            "invalid_request_error",
            param or None,
            "invalid_value",
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if (failure := body_failure(exc.__cause__)) is not None:  # FastAPI says 400 for any failure to read a body
            return await ragstore_error(request, failure)
        code = "not_found" if exc.status_code == 404 else None
        message = (
            f"Unrecognized request URL ({request.method} {request.url.path})."
            if exc.status_code == 404
            else (str(exc.detail))
        )
        return render(request, exc.status_code, message, "invalid_request_error", None, code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return render(
            request,
            500,
            "The server had an error while processing your request.",
            "server_error",
            None,
            "server_error",
        )
