"""The query cache (embeddings and search results), in-process or in Redis: see ragstore.cache.query."""

from ragstore.cache.query import QueryCache, open_cache

__all__ = ["QueryCache", "open_cache"]
