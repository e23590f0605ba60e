"""/v1/vector_stores: create, list, retrieve, modify, delete and search vector stores."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from ragstore.api import objects, schemas, search_schemas
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.models import PageRequest
from ragstore.service import ingestion, reranking, spaces, stores

router = APIRouter(prefix="/v1/vector_stores", tags=["Vector stores"])

Order = Literal["asc", "desc"]
# OpenAI's rankers: `none` is dense search alone; `auto` (the default) is the best measured, hybrid (fusion.py's
# rare_rescue); `lexical` (BM25 alone) is ragstore's extension.
# OGX's `rrf` and `weighted` are hybrid rankers (with their parameters on vector store search; elsewhere auto's).
RANKERS = {
    "none": "dense",
    "auto": "hybrid",
    "default-2024-11-15": "hybrid",
    "lexical": "lexical",
    "rrf": "hybrid",
    "weighted": "hybrid",
}
# OGX's search modes (an extension here).
SEARCH_MODES = {"vector": "dense", "keyword": "lexical", "hybrid": "hybrid"}


def ranking(body: search_schemas.VectorStoreSearchRequest) -> tuple[str, float | None, float | None]:
    """The search's ranker, the dense weight of a `weighted` fusion and the k of an `rrf` one: OGX's `search_mode`
    chooses among dense, lexical and hybrid when given; `rrf` and `weighted` are hybrid rankers."""
    options = body.ranking_options
    name = options.ranker if options else "auto"
    alpha = options.alpha if options and name == "weighted" else None
    rrf_k = options.impact_factor if options and name == "rrf" else None
    ranker = RANKERS[name]
    if body.search_mode is not None:
        ranker = SEARCH_MODES[body.search_mode]
    if ranker != "hybrid":
        alpha = rrf_k = None
    return ranker, alpha, rrf_k


def strategy(param: Any) -> ingestion.ChunkingStrategy:
    """The chunking strategy a request asks for (auto when none)."""
    if param is None or param.type == "auto":
        return ingestion.chunking()
    return ingestion.chunking(param.static.max_chunk_size_tokens, param.static.chunk_overlap_tokens)


def poll_header(response: Response, in_progress: bool) -> None:
    """Tell the SDK's pollers how soon to ask again."""
    if in_progress:
        response.headers["openai-poll-after-ms"] = objects.POLL_AFTER_MS


@router.post("", response_model=schemas.VectorStoreObject)
def create_vector_store(
    body: schemas.CreateVectorStoreRequest, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.VectorStoreObject:
    """Create a vector store; files given by id are added and processed in the background.

    ragstore's extensions: `embedding_model`, `embedding_dimension` and `provider_id` choose the store's model
    (checked with one embedding before anything is stored); omitted, the server's own."""
    space = spaces.choose(
        runtime.embedder,
        runtime.settings.embedding_providers,
        body.provider_id,
        body.embedding_model,
        body.embedding_dimension,
    )
    store = stores.create(
        runtime.db,
        tenant,
        runtime.embedder,
        body.name or "",
        description=body.description,
        metadata=body.metadata,
        expires_after=body.expires_after.model_dump() if body.expires_after else None,
        file_ids=body.file_ids or [],
        strategy=strategy(body.chunking_strategy),
        language=runtime.settings.text_search_language,
        space=space,
    )
    return objects.store_object(store)


@router.get("", response_model=schemas.ListVectorStoresResponse)
def list_vector_stores(
    runtime: RuntimeDep,
    tenant: TenantDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Order = "desc",
    after: str | None = None,
    before: str | None = None,
    order_by: Literal["created_at", "last_active_at"] = "created_at",
) -> schemas.ListVectorStoresResponse:
    """Vector stores, newest first by default, with cursor pagination.

    `order_by` is ragstore's own: `created_at` (the default, as OpenAI's) or `last_active_at`, the time of the
    store's last change or search; `after` and `before` page from the named store's place in that order.
    """
    page = stores.list_stores(runtime.db, tenant, PageRequest(limit, order, after, before), order_by)
    return schemas.ListVectorStoresResponse.page([objects.store_object(s) for s in page.items], has_more=page.has_more)


@router.get("/stats", response_model=None, responses={200: {"model": schemas.VectorStoreStats}})
def vector_store_stats(runtime: RuntimeDep, tenant: TenantDep) -> dict[str, Any]:
    """ragstore's own: totals of stores, files and batches, files by status, and bytes used."""
    return {"object": "vector_store.stats", **stores.usage(runtime.db, tenant)}


@router.get("/stats/daily", response_model=None, responses={200: {"model": schemas.VectorStoreDailyStats}})
def vector_store_daily_stats(
    runtime: RuntimeDep, tenant: TenantDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> dict[str, Any]:
    """ragstore's own: per UTC day of the last `days` days, the files and bytes uploaded, and the totals of files,
    bytes and store usage at the day's end. Read from the creation times of what is stored now: a deleted file
    leaves no history."""
    return {"object": "vector_store.stats.daily", "days": stores.usage_by_day(runtime.db, tenant, days)}


@router.get("/{vector_store_id}", response_model=schemas.VectorStoreObject)
def retrieve_vector_store(
    vector_store_id: str, response: Response, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.VectorStoreObject:
    """One vector store, with its file counts."""
    store = stores.get(runtime.db, tenant, vector_store_id)
    poll_header(response, store.status == "in_progress")
    return objects.store_object(store)


@router.post("/{vector_store_id}", response_model=schemas.VectorStoreObject)
def modify_vector_store(
    vector_store_id: str, body: schemas.UpdateVectorStoreRequest, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.VectorStoreObject:
    """Change name, expires_after or metadata; a field sent as null is cleared, one left out is kept."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if "expires_after" in changes and body.expires_after is not None:
        changes["expires_after"] = body.expires_after.model_dump()
    return objects.store_object(stores.update(runtime.db, tenant, vector_store_id, changes))


@router.delete("/{vector_store_id}", response_model=schemas.DeleteVectorStoreResponse)
def delete_vector_store(
    vector_store_id: str, runtime: RuntimeDep, tenant: TenantDep
) -> schemas.DeleteVectorStoreResponse:
    """Delete a vector store and its chunks; the files themselves stay."""
    stores.delete(runtime.db, tenant, vector_store_id)
    return schemas.DeleteVectorStoreResponse(id=vector_store_id, object="vector_store.deleted", deleted=True)


@router.post("/{vector_store_id}/search", response_model=search_schemas.VectorStoreSearchResultsPage)
def search_vector_store(
    vector_store_id: str, body: search_schemas.VectorStoreSearchRequest, runtime: RuntimeDep, tenant: TenantDep
) -> Response:
    """The passages nearest to the query, with scores in 0..1, optionally filtered by file attributes."""
    queries = [body.query] if isinstance(body.query, str) else list(body.query)
    options = body.ranking_options
    threshold = options.score_threshold if options and options.score_threshold is not None else 0.0
    filters = body.filters.model_dump() if body.filters else None
    ranker, alpha, rrf_k = ranking(body)
    by_default = runtime.settings.rerank_by_default
    reranker = reranking.wanted(options.rerank if options else None, runtime.reranker, by_default)
    hits = reranking.search_reranked(
        runtime.db,
        runtime.queries,
        reranker,
        tenant,
        [vector_store_id],
        queries,
        body.max_num_results,
        threshold,
        filters,
        ranker,
        alpha,
        rrf_k=rrf_k,
        cache=runtime.cache,
    )
    # Written here, in the worker thread, straight from the hits: a model returned would be validated again, in a
    # second trip through the thread pool, and building one costs more than the JSON (a search is the hot path).
    return Response(objects.search_page_json(queries, hits), media_type="application/json")
