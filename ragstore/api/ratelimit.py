"""Per-key rate limits: a token bucket per API key, shared by every replica through Redis when RAGSTORE_REDIS_URL is
set, else in this process.

The shared bucket is one Redis hash per key, spent and refilled by one Lua script (atomic, on Redis's own clock, so
replicas' clocks need not agree). While Redis cannot be reached, each process falls back to its own bucket (a key
may then make up to N times the limit on N replicas, as without Redis) and tries Redis again after a few seconds
(redis_link.py's breaker, shared with the cache); the log says once that it is down and once that it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from ragstore import redis_link
from ragstore.config import redact_url
from ragstore.errors import RateLimited

log = logging.getLogger(__name__)

PREFIX = "ragstore:ratelimit:"

# KEYS[1]: the bucket; ARGV: capacity, refill per second. Returns {1, 0} when a token was spent, else {0, the
# milliseconds until the next one}. The bucket expires once it would be full again anyway.
_SPEND = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local spent = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  spent = 1
else
  wait = math.ceil((1 - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return {spent, wait}
"""


class LocalBuckets:
    """Up to `per_minute` requests a minute per key, refilled continuously; bursts up to the same number."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Spend one request of key's allowance, or raise RateLimited with the wait until the next one."""
        rate = self.per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited((1.0 - tokens) / rate)
            self._buckets[key] = (tokens - 1.0, now)


class RedisBuckets:
    """The same buckets in Redis, one hash per key under `prefix`, shared by every process that uses them."""

    def __init__(
        self,
        url: str,
        per_minute: int,
        *,
        prefix: str = PREFIX,
        breaker_seconds: float = redis_link.BREAKER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = redact_url(url)
        self.per_minute = per_minute
        self.prefix = prefix
        self.fallback = LocalBuckets(per_minute, clock)
        self._client = redis_link.client(url)
        self._spend = self._client.register_script(_SPEND)
        self.breaker = redis_link.Breaker(
            "The rate limits' Redis",
            self.url,
            "each process counts its own requests until it is back",
            "every process shares the limits again",
            seconds=breaker_seconds,
            clock=clock,
            logger=log,
        )

    def check(self, key: str) -> None:
        if self.breaker.skipping():
            self.fallback.check(key)
            return
        try:
            spent, wait_ms = self._spend(keys=[self.prefix + key], args=[self.per_minute, self.per_minute / 60.0])
        except (redis.RedisError, OSError) as error:
            self.breaker.failed(error)
            self.fallback.check(key)
            return
        self.breaker.succeeded()
        if not spent:
            raise RateLimited(int(wait_ms) / 1000.0)

    def close(self) -> None:
        self._client.close()


class RateLimiter:
    """Up to `per_minute` requests a minute per API key (0: no limit), in Redis at redis_url when given."""

    def __init__(self, per_minute: int, redis_url: str | None = None, *, prefix: str = PREFIX) -> None:
        self.per_minute = per_minute
        self._buckets: LocalBuckets | RedisBuckets | None = None
        if per_minute:
            self._buckets = (
                RedisBuckets(redis_url, per_minute, prefix=prefix) if redis_url else LocalBuckets(per_minute)
            )

    @property
    def shared(self) -> bool:
        """Whether check() asks Redis (and so may block for up to its timeouts)."""
        return isinstance(self._buckets, RedisBuckets)

    def check(self, key: str) -> None:
        """Spend one request of key's allowance, or raise RateLimited with the wait until the next one."""
        if self._buckets is not None:
            self._buckets.check(key)

    def close(self) -> None:
        if isinstance(self._buckets, RedisBuckets):
            self._buckets.close()
