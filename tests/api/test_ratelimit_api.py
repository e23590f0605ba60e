"""Rate limits shared by replicas through Redis (the machine's, at 127.0.0.1:6379, under a prefix of the test's own):
two servers on one database and one Redis let a key make `rate_limit_per_minute` requests in all, not each. Without
Redis, or with Redis down, each process counts its own."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator

import openai
import pytest
import redis

from ragstore.api.ratelimit import RateLimiter
from ragstore.errors import RateLimited

REDIS_URL = "redis://127.0.0.1:6379/0"
PER_MINUTE = 3  # one token every 20 s: none comes back while a test runs


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"ragstore-test:{uuid.uuid4().hex}:"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


def replicas(start_server, prefix: str, redis_url: str | None) -> list:
    """Two servers on the test's database; with redis_url, their limiters share buckets under the test's prefix."""
    servers = [start_server(rate_limit_per_minute=PER_MINUTE, redis_url=redis_url, workers=0) for _ in range(2)]
    for server in servers:
        assert server.app.state.rate_limiter.shared == (redis_url is not None)  # what create_app made of settings
        if redis_url is not None:
            server.app.state.rate_limiter = RateLimiter(PER_MINUTE, redis_url, prefix=prefix)
    return [server.client() for server in servers]


def test_replicas_share_one_limit_through_redis(start_server, prefix):
    one, other = replicas(start_server, prefix, REDIS_URL)
    one.files.list()
    other.files.list()
    one.files.list()
    for client in (one, other):  # the third request spent the last token, whichever replica served it
        with pytest.raises(openai.RateLimitError) as caught:
            client.files.list()
        assert 1 <= int(caught.value.response.headers["retry-after"]) <= 21


def test_without_redis_each_replica_counts_its_own(start_server, prefix):
    one, other = replicas(start_server, prefix, None)
    for _ in range(PER_MINUTE):
        one.files.list()
        other.files.list()
    with pytest.raises(openai.RateLimitError):
        other.files.list()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_with_redis_down_each_process_falls_back_to_its_own_buckets(caplog, prefix):
    limiter = RateLimiter(PER_MINUTE, f"redis://127.0.0.1:{closed_port()}/0", prefix=prefix)
    with caplog.at_level(logging.WARNING, logger="ragstore.api.ratelimit"):
        for _ in range(PER_MINUTE):
            limiter.check("key")
        with pytest.raises(RateLimited):
            limiter.check("key")
        limiter.check("another key")
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1
