"""/readyz for load balancers and orchestrators, /metrics for Prometheus. Like /healthz, they need no API key."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ragstore.api.base import Error, WireModel
from ragstore.api.deps import RuntimeDep
from ragstore.observability import collector
from ragstore.observability.readiness import Readiness

router = APIRouter(tags=["Health"])


class ReadinessCheck(WireModel):
    ok: bool
    detail: str


class ReadinessObject(WireModel):
    status: Literal["ready"]
    checks: dict[str, ReadinessCheck]


class NotReadyResponse(WireModel):
    """The error envelope, with every check beside it."""

    error: Error
    checks: dict[str, ReadinessCheck]


@router.get("/readyz", response_model=ReadinessObject, responses={503: {"model": NotReadyResponse}})
def readyz(request: Request, runtime: RuntimeDep) -> ReadinessObject | JSONResponse:
    """Ready to serve: the database answers, every migration is applied and the embedding model embeds (its answer
    is kept for a few seconds). 503, naming the failing checks, otherwise."""
    state = request.app.state
    if getattr(state, "readiness", None) is None:
        state.readiness = Readiness(runtime.db, runtime.embedder)
    checks = {
        name: ReadinessCheck(ok=check.ok, detail=check.detail) for name, check in state.readiness.checks().items()
    }
    failing = [f"{name}: {check.detail}" for name, check in checks.items() if not check.ok]
    if not failing:
        return ReadinessObject(status="ready", checks=checks)
    body = NotReadyResponse(
        error=Error(
            message="Not ready: " + "; ".join(failing) + ".", type="server_error", param=None, code="not_ready"
        ),
        checks=checks,
    )
    return JSONResponse(body.model_dump(), status_code=503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {collector.CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}}},
)
def metrics(runtime: RuntimeDep) -> Response:
    """This process's metrics in Prometheus' text format: request and search latency, embedding throughput,
    cache lookups, and the job queue (read from the database at each scrape)."""
    return Response(collector.exposition(runtime.db), media_type=collector.CONTENT_TYPE)
