"""The HTTP application: create_app(settings) opens the runtime and its in-process workers for its lifetime."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response

from ragstore import web
from ragstore.api import (
    admin,
    answers,
    conversations,
    errors,
    feedback,
    files,
    monitoring,
    training,
    vector_store_files,
    vector_stores,
)
from ragstore.api.deps import RuntimeDep
from ragstore.api.ratelimit import RateLimiter
from ragstore.config import Settings
from ragstore.observability import logs, metrics
from ragstore.runtime import open_runtime
from ragstore.service import status

if TYPE_CHECKING:
    from ragstore.ingest.embed import Embedder

log = logging.getLogger(__name__)

# Multipart framing around an upload's bytes.
_ENVELOPE_BYTES = 1 << 20


def create_app(settings: Settings, embedder: Embedder | None = None) -> FastAPI:
    """The app; embedder: one already loaded, else the settings' own is loaded at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = open_runtime(settings, embedder)
        workers = runtime.start_workers(settings.workers)
        app.state.runtime = runtime
        try:
            yield
        finally:
            workers.stop(settings.shutdown_grace_seconds)
            runtime.close()

    app = FastAPI(
        title="ragstore",
        version="0.1.0",
        description="A self-hosted knowledge base whose API is OpenAI's Files + Vector Stores API.",
        lifespan=lifespan,
        # No route ends in "/": a path that does (an id that is "/") is a 404 in the envelope, not a redirect.
        redirect_slashes=False,
    )
    errors.install(app)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    for router in (
        files.router,
        vector_stores.router,
        vector_store_files.router,
        conversations.router,
        answers.router,
        feedback.router,
        training.examples_router,
        training.datasets_router,
        admin.router,
        monitoring.router,
    ):
        app.include_router(router, responses=errors.ERROR_RESPONSES)
    web.mount(app)

    @app.middleware("http")
    async def request_id_and_size(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id") or f"req_{uuid.uuid4().hex}"
        started, token = time.perf_counter(), logs.request_id.set(request_id)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_upload_bytes + _ENVELOPE_BYTES:
            response: Response = errors.envelope(
                413,
                f"The request is larger than the limit of {settings.max_upload_bytes} bytes.",
                "invalid_request_error",
                None,
                "request_too_large",
            )
        else:
            try:
                response = await call_next(request)
            except Exception:  # rendered here so that even a 500 carries its request id
                log.exception("%s %s failed", request.method, request.url.path)
                response = errors.envelope(
                    500,
                    "The server had an error while processing your request.",
                    "server_error",
                    None,
                    "server_error",
                )
        response.headers["x-request-id"] = request_id
        elapsed = time.perf_counter() - started
        metrics.observe_request(metrics.route_template(request.scope), request.method, response.status_code, elapsed)
        logs.log_request(request.method, request.url.path, response.status_code, elapsed)
        logs.request_id.reset(token)
        return response

    @app.get("/healthz", tags=["Health"], responses=errors.ERROR_RESPONSES)
    def healthz(runtime: RuntimeDep) -> dict[str, str]:
        """Liveness and database reachability."""
        info = status.server(runtime.db)
        return {"status": "ok", "postgresql": info.server_version, "pgvector": info.pgvector_version}

    return app
