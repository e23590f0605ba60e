"""Per-key rate limits: a token bucket per API key, in this process."""

from __future__ import annotations

import threading
import time

from ragstore.errors import RateLimited


class RateLimiter:
    """Up to `per_minute` requests a minute per key, refilled continuously; bursts up to the same number."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Spend one request of key's allowance, or raise RateLimited with the wait until the next one."""
        if not self.per_minute:
            return
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimited((1.0 - tokens) / rate)
            self._buckets[key] = (tokens - 1.0, now)
