"""Retries at the network edges: a remote embeddings endpoint (ingest/embed.py) and a chat model (chat/llm.py).

A transient failure (a connection that failed or broke, a timeout, 408, 409, 429 or a 5xx) is retried up to
`attempts` times in all, after a delay drawn at random below a doubling ceiling ("full jitter": replicas that failed
together do not come back together), or after the endpoint's own Retry-After when it sends one. A Retry-After longer
than `max_wait` is not waited for: the failure is reported at once, as it is when the attempts run out, and the caller
keeps its own error (a file's last_error, an answer's 502).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4  # in all, the first included
    first_delay: float = 0.5  # seconds: the ceiling of the first delay, doubled for each retry
    max_delay: float = 8.0
    max_wait: float = 30.0  # the longest Retry-After waited for
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False)  # in [0, 1)

    def delay(self, retry: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before retry number `retry` (0 for the first), None to give up now."""
        if retry + 1 >= self.attempts:
            return None
        asked = retry_after(response) if response is not None else None
        if asked is not None:
            return asked if asked <= self.max_wait else None
        return self.jitter() * min(self.max_delay, self.first_delay * 2**retry)


NO_RETRIES = RetryPolicy(attempts=1)


def send(policy: RetryPolicy, attempt: Callable[[], httpx.Response], what: str) -> httpx.Response:
    """attempt()'s response once it is not a transient failure, or the last one when retries run out; a transport
    error (connection, timeout) on the last attempt is raised. A response given up for a retry is closed."""
    retry = 0
    while True:
        try:
            response = attempt()
        except httpx.TransportError as exc:
            wait = policy.delay(retry, None)
            if wait is None:
                raise
            log.warning("%s failed (%s); retry %d in %.1f s.", what, exc, retry + 1, wait)
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            wait = policy.delay(retry, response)
            if wait is None:
                return response
            response.close()
            log.warning("%s answered %d; retry %d in %.1f s.", what, response.status_code, retry + 1, wait)
        policy.sleep(wait)
        retry += 1


def retry_after(response: httpx.Response) -> float | None:
    """The wait a response asks for (Retry-After in seconds or as an HTTP date, or OpenAI's retry-after-ms)."""
    if (ms := response.headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
