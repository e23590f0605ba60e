"""Wire models of vector store search: filters, ranking options, the request and its results page (OpenAI's
components of the same names; ragstore's extensions say so)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)

from ragstore.api import limits
from ragstore.api.base import (
    FiniteFloat,
    Omittable,
    RequestModel,
    Scalar,
    VectorStoreFileAttributes,
    WireModel,
)

# ---------------------------------------------------------------------------------------------------------------------
# Search


class ComparisonFilter(RequestModel):
    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
    key: str
    value: Scalar | list[StrictInt | FiniteFloat | StrictStr]


class CompoundFilter(RequestModel):
    type: Literal["and", "or"]
    filters: list[Filter]


Filter = Annotated[ComparisonFilter | CompoundFilter, Field(discriminator="type")]
"""A comparison or a compound filter, told apart by `type`."""

CompoundFilter.model_rebuild()


def _check_filter(value: ComparisonFilter | CompoundFilter) -> ComparisonFilter | CompoundFilter:
    """The bounds store/filters.py does not check itself: the length of `in`/`nin` lists, one and all together, and
    of string values (no attribute holds a longer one)."""
    total, stack = 0, [value]
    while stack:
        node = stack.pop()
        if isinstance(node, CompoundFilter):
            stack.extend(node.filters)
            continue
        items = node.value if isinstance(node.value, list) else [node.value]
        if len(items) > limits.FILTER_LIST_ITEMS:
            raise ValueError(f"an '{node.type}' list may hold at most {limits.FILTER_LIST_ITEMS} values")
        total += len(items)
        if total > limits.FILTER_ITEMS:
            raise ValueError(f"a filter's lists may hold at most {limits.FILTER_ITEMS} values together")
        if any(isinstance(item, str) and len(item) > limits.ATTRIBUTE_VALUE_CHARS for item in items):
            raise ValueError(f"a filter's strings may be at most {limits.ATTRIBUTE_VALUE_CHARS} characters")
    return value


BoundedFilter = Annotated[Filter, AfterValidator(_check_filter)]
"""A filter within the limits table's bounds (depth and comparisons: store/filters.py)."""


def _check_query(value: str | list[str]) -> str | list[str]:
    queries = [value] if isinstance(value, str) else value
    if not queries:
        raise ValueError("a list of queries must hold at least one")
    if len(queries) > limits.QUERY_ITEMS:
        raise ValueError(f"at most {limits.QUERY_ITEMS} queries may be given, got {len(queries)}")
    for number, query in enumerate(queries):
        if len(query) > limits.QUERY_CHARS:
            which = "the query" if isinstance(value, str) else f"query {number}"
            raise ValueError(f"{which} has {len(query)} characters, more than the {limits.QUERY_CHARS} allowed")
    return value


class RankingOptions(RequestModel):
    # `lexical` (BM25 alone) is ragstore's extension; OpenAI's are none (dense alone), auto and default-2024-11-15.
    # OGX's (ragstore's extensions too): `rrf` (reciprocal rank fusion, k = impact_factor) and `weighted` (alpha *
    # dense + (1 - alpha) * lexical, each min-max scaled), both hybrid.
    ranker: Literal["none", "auto", "default-2024-11-15", "lexical", "rrf", "weighted"] = "auto"
    impact_factor: float = Field(60.0, gt=0, le=10_000, strict=True)
    alpha: float = Field(0.5, ge=0, le=1, strict=True)
    score_threshold: float = Field(0, ge=0, le=1, strict=True)
    # ragstore's extension: reorder the top hits with the reranker at RAGSTORE_RERANK_BASE_URL (vector store search
    # only); unset: RAGSTORE_RERANK_BY_DEFAULT decides.
    rerank: StrictBool | None = None


class VectorStoreSearchRequest(RequestModel):
    query: Annotated[str | list[str], AfterValidator(_check_query)]
    rewrite_query: StrictBool = False
    max_num_results: StrictInt = Field(10, ge=1, le=limits.MAX_RESULTS)
    filters: Omittable[BoundedFilter] = None
    ranking_options: Omittable[RankingOptions] = None
    # OGX's extension: vector (dense), keyword (lexical) or hybrid (ranking_options.ranker's fusion, else auto's).
    search_mode: Omittable[Literal["vector", "keyword", "hybrid"]] = None


class VectorStoreSearchResultContentObject(WireModel):
    type: Literal["text"] = "text"
    text: str


class VectorStoreSearchResultItem(WireModel):
    file_id: str
    filename: str
    score: float = Field(ge=0, le=1)
    attributes: VectorStoreFileAttributes | None
    content: list[VectorStoreSearchResultContentObject]


class VectorStoreSearchResultsPage(WireModel):
    object: Literal["vector_store.search_results.page"] = "vector_store.search_results.page"
    search_query: list[str]
    data: list[VectorStoreSearchResultItem]
    has_more: bool
    next_page: str | None
