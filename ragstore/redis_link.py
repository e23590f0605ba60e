"""Redis as ragstore's processes share it (the query cache, the rate limits): a client that fails fast, and a circuit
breaker that skips Redis for a while after each failure, saying once in the log that it is down and once that it is
back. A leaf: the cache and the API's rate limits both use it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# A request waits this long at most for a Redis that is down, once per BREAKER_SECONDS.
CONNECT_TIMEOUT_SECONDS = 0.05
READ_TIMEOUT_SECONDS = 0.1
BREAKER_SECONDS = 5.0


def client(url: str) -> redis.Redis:
    """A client that fails at once rather than retrying: the breaker decides when to try again."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=READ_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )


class Breaker:
    """Whether to skip Redis now, and the two log lines: "<what> at <url> is unavailable (<error>): <meanwhile>; ..."
    once when it goes, and "<what> at <url> is back: <again>." once when it returns."""

    def __init__(
        self,
        what: str,
        url: str,
        meanwhile: str,
        again: str,
        *,
        seconds: float = BREAKER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self.what, self.url, self.meanwhile, self.again = what, url, meanwhile, again
        self.seconds = seconds
        self._clock = clock
        self._log = logger
        self._skip_until = 0.0
        self._down = False
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._down

    def skipping(self) -> bool:
        """Whether a failure was so recent that Redis is not tried."""
        return self._clock() < self._skip_until

    def failed(self, error: Exception) -> None:
        with self._lock:
            self._skip_until = self._clock() + self.seconds
            if self._down:
                return
            self._down = True
        self._log.warning(
            "%s at %s is unavailable (%s): %s; it is tried again every %g s.",
            self.what,
            self.url,
            error,
            self.meanwhile,
            self.seconds,
        )

    def succeeded(self) -> None:
        if not self._down:
            return
        with self._lock:
            if not self._down:
                return
            self._down = False
        self._log.warning("%s at %s is back: %s.", self.what, self.url, self.again)
