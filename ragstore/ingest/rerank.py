"""A reranking model behind a Cohere/Jina/TEI-style POST {base_url}/rerank endpoint.

Request {"model", "query", "documents", "top_n"}; response {"results": [{"index", "relevance_score"}, ...]}, best
first. Used by service/reranking.py to reorder a search's top hits; off unless RAGSTORE_RERANK_BASE_URL is set.
"""

from __future__ import annotations

import httpx

from ragstore.config import Settings
from ragstore.errors import RerankError
from ragstore.ingest.retry import RetryPolicy, send

# A search waits for its reranking: one quick retry of a transient failure (ingest/retry.py), no Retry-After longer
# than a second waited for; past that the search does without (service/reranking.py).
SEARCH_RETRY = RetryPolicy(attempts=2, first_delay=0.2, max_delay=0.2, max_wait=1.0)


class Reranker:
    """The endpoint's client; `candidates` is how many top hits a search hands it."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        candidates: int,
        timeout: float,
        retry: RetryPolicy = SEARCH_RETRY,
    ) -> None:
        self.model = model
        self.retry = retry
        self.candidates = candidates
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout)

    def rerank(self, query: str, documents: list[str]) -> list[tuple[int, float]]:
        """(index into documents, relevance score) for every document, best first."""
        if not documents:
            return []
        body = {"model": self.model, "query": query, "documents": documents, "top_n": len(documents)}
        try:
            response = send(self.retry, lambda: self._client.post("rerank", json=body), "The reranking endpoint")
            response.raise_for_status()
            found = [(int(item["index"]), float(item["relevance_score"])) for item in response.json()["results"]]
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            raise RerankError(f"The reranking endpoint failed: {exc}") from exc
        if sorted(index for index, _ in found) != list(range(len(documents))):
            raise RerankError(
                f"The reranking endpoint returned indexes {sorted(i for i, _ in found)[:10]}... "
                f"for {len(documents)} documents: each must appear once."
            )
        return sorted(found, key=lambda item: -item[1])

    def close(self) -> None:
        self._client.close()


def create_reranker(settings: Settings) -> Reranker | None:
    """The reranker at RAGSTORE_RERANK_BASE_URL, if one is set."""
    if not settings.rerank_base_url:
        return None
    return Reranker(
        settings.rerank_base_url,
        settings.rerank_model,
        settings.rerank_api_key,
        settings.rerank_candidates,
        settings.rerank_timeout_seconds,
    )
