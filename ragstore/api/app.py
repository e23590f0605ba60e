"""The HTTP application: create_app(settings) opens the runtime and its in-process workers for its lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from ragstore.api import errors
from ragstore.config import Settings
from ragstore.runtime import open_runtime
from ragstore.service import status


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = open_runtime(settings)
        workers = runtime.start_workers(settings.workers)
        app.state.runtime = runtime
        try:
            yield
        finally:
            workers.stop()
            runtime.close()

    app = FastAPI(title="ragstore", version="0.1.0", lifespan=lifespan)
    errors.install(app)

    @app.get("/healthz")
    def healthz(request: Request) -> dict[str, str]:
        """Liveness and database reachability."""
        info = status.server(request.app.state.runtime.db)
        return {"status": "ok", "postgresql": info.server_version, "pgvector": info.pgvector_version}

    return app
