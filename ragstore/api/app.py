"""The HTTP application: create_app(settings) opens the runtime and its in-process workers for its lifetime."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from ragstore import web
from ragstore.api import (
    admin,
    answers,
    conversations,
    embeddings,
    errors,
    feedback,
    files,
    monitoring,
    relay,
    responses,
    rpc,
    seed_routes,
    training,
    vector_store_files,
    vector_stores,
)
from ragstore.api.access import AccessMiddleware
from ragstore.api.deps import RuntimeDep
from ragstore.api.ratelimit import RateLimiter
from ragstore.config import Settings
from ragstore.runtime import open_runtime
from ragstore.service import status, tenants

if TYPE_CHECKING:
    from ragstore.ingest.embed import Embedder


def create_app(settings: Settings, embedder: Embedder | None = None) -> FastAPI:
    """The app; embedder: one already loaded, else the settings' own is loaded at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = open_runtime(settings, embedder, serving=True)
        workers = runtime.start_workers(settings.workers)
        app.state.runtime = runtime
        try:
            yield
        finally:
            # One grace period for both: the answers still being generated (before their database closes), then
            # what is left of it for the running jobs, which have gone on meanwhile.
            deadline = time.monotonic() + settings.shutdown_grace_seconds
            relay.IN_FLIGHT.wait(settings.shutdown_grace_seconds)
            workers.stop(max(0.0, deadline - time.monotonic()))
            runtime.close()
            app.state.rate_limiter.close()

    app = FastAPI(
        title="ragstore",
        version="0.1.0",
        description="A self-hosted knowledge base whose API is OpenAI's Files + Vector Stores API.",
        lifespan=lifespan,
        # No route ends in "/": a path that does (an id that is "/") is a 404 in the envelope, not a redirect.
        redirect_slashes=False,
        docs_url=None,  # served by ragstore.web with local assets: FastAPI's pages load them from a CDN
        redoc_url=None,
    )
    errors.install(app)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.redis_url)
    app.state.key_cache = tenants.KeyCache(settings.api_key_cache_seconds)
    for router in (
        files.router,
        vector_stores.router,
        vector_store_files.router,
        conversations.router,
        answers.router,
        responses.router,
        embeddings.router,
        feedback.router,
        training.examples_router,
        training.datasets_router,
        admin.router,
        monitoring.router,
        seed_routes.router,
    ):
        app.include_router(router, responses=errors.ERROR_RESPONSES)
    app.include_router(rpc.router)  # errors in PostgREST's shape (api/errors.py), as supabase-py reads them
    web.mount(app)

    app.add_middleware(AccessMiddleware, max_upload_bytes=settings.max_upload_bytes)

    @app.get("/healthz", tags=["Health"], responses=errors.ERROR_RESPONSES)
    def healthz(runtime: RuntimeDep) -> dict[str, str]:
        """Liveness and database reachability."""
        info = status.server(runtime.db)
        return {"status": "ok", "postgresql": info.server_version, "pgvector": info.pgvector_version}

    return app
