"""Where cached values live: a bounded in-process LRU, or Redis shared by every process.

Both hold bytes under string keys with a time-to-live. A backend never raises: a value it cannot give back is a miss.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, TypeVar

import redis

from ragstore import redis_link
from ragstore.config import redact_url

log = logging.getLogger(__name__)

T = TypeVar("T")

MEMORY_MAX_BYTES = 64 * 1024 * 1024
MEMORY_MAX_ENTRIES = 100_000
# A request must never wait on a cache: Redis gets 50 ms to accept a connection and 100 ms to answer, once
# (no retries), and after a failure it is left alone this long before it is tried again.
BREAKER_SECONDS = redis_link.BREAKER_SECONDS


class Backend(Protocol):
    name: str

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: float) -> None: ...

    def close(self) -> None: ...


class MemoryBackend:
    """A least-recently-used map with an expiry per entry, bounded in bytes and entries; thread-safe."""

    name = "memory"

    def __init__(
        self,
        max_bytes: int = MEMORY_MAX_BYTES,
        max_entries: int = MEMORY_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            expires, value = found
            if expires <= self._clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: float) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (self._clock() + ttl, value)
            self._bytes += len(value)
            while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
                self._drop(next(iter(self._entries)))

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self._bytes -= len(value)

    def close(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


class RedisBackend:
    """Redis at a URL, shared by every process that uses it. Unreachable, it is skipped for BREAKER_SECONDS after
    each failure (a circuit breaker), and the log says once that it is down and once that it is back."""

    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        breaker_seconds: float = redis_link.BREAKER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = redact_url(url)
        self._client = redis_link.client(url)
        self.breaker = redis_link.Breaker(
            "The cache's Redis",
            self.url,
            "searches go on uncached",
            "searches are cached again",
            seconds=breaker_seconds,
            clock=clock,
            logger=log,
        )

    @property
    def down(self) -> bool:
        return self.breaker.down

    def get(self, key: str) -> bytes | None:
        value = self._call(lambda: self._client.get(key))
        return value if isinstance(value, bytes) else None  # the client does not decode: a value is bytes

    def set(self, key: str, value: bytes, ttl: float) -> None:
        self._call(lambda: self._client.set(key, value, px=max(1, round(ttl * 1000))))

    def close(self) -> None:
        self._client.close()

    def _call(self, operation: Callable[[], T]) -> T | None:
        if self.breaker.skipping():
            return None
        try:
            result = operation()
        except (redis.RedisError, OSError) as error:
            self.breaker.failed(error)
            return None
        self.breaker.succeeded()
        return result
