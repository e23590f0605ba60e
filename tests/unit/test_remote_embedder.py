"""The remote embedder against a stand-in OpenAI-compatible /embeddings server, over real HTTP."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from ragstore.config import Settings
from ragstore.errors import EmbeddingError
from ragstore.ingest.embed import RemoteEmbedder, create_embedder, takes_dimensions
from ragstore.ingest.retry import RetryPolicy


class EmbeddingsHandler(BaseHTTPRequestHandler):
    """Speaks OpenAI's embeddings wire format: out-of-order data items, each with its index."""

    requests: list[dict] = []
    dimension = 384
    failures: list[tuple[int, dict[str, str]]] = []  # (status, headers) to answer the next requests with, in order

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.failures:
            status, headers = self.failures.pop(0)
            error = json.dumps({"error": {"message": "Slow down.", "type": "requests"}}).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(error)))
            self.end_headers()
            self.wfile.write(error)
            return
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(text))] * self.dimension}
            for i, text in enumerate(body["input"])
        ]
        payload = json.dumps(
            {
                "object": "list",
                "data": data[::-1],
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def endpoint():
    EmbeddingsHandler.requests = []
    EmbeddingsHandler.dimension = 384
    EmbeddingsHandler.failures = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


def test_batches_keeps_order_and_normalises(endpoint):
    embedder = RemoteEmbedder(endpoint, "text-embedding-3-small", "sk-test", 384, batch_size=2)
    vectors = embedder.embed(["a", "bbb", "cc"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert [r["body"]["input"] for r in EmbeddingsHandler.requests] == [["a", "bbb"], ["cc"]]
    assert {(r["path"], r["auth"], r["body"]["model"]) for r in EmbeddingsHandler.requests} == {
        ("/v1/embeddings", "Bearer sk-test", "text-embedding-3-small")
    }


def test_wrong_dimension_is_a_clear_error(endpoint):
    EmbeddingsHandler.dimension = 8
    with pytest.raises(EmbeddingError, match="384-dimensional"):
        RemoteEmbedder(endpoint, "m", None, 384, batch_size=4).embed(["x"])


def test_unreachable_endpoint_is_a_clear_error_after_its_retries():
    pauses: list[float] = []
    retry = RetryPolicy(sleep=pauses.append, jitter=lambda: 1.0)
    with pytest.raises(EmbeddingError, match="embeddings endpoint failed"):
        RemoteEmbedder("http://127.0.0.1:9/v1", "m", None, 384, batch_size=4, retry=retry).embed(["x"])
    assert pauses == [0.5, 1.0, 2.0]


def test_rate_limits_and_server_errors_are_retried_honouring_retry_after(endpoint):
    EmbeddingsHandler.failures = [(429, {"Retry-After": "7"}), (503, {"retry-after-ms": "250"}), (502, {})]
    pauses: list[float] = []
    retry = RetryPolicy(sleep=pauses.append, jitter=lambda: 1.0)
    vectors = RemoteEmbedder(endpoint, "m", None, 384, batch_size=4, retry=retry).embed(["x", "yy"])
    assert vectors.shape == (2, 384) and len(EmbeddingsHandler.requests) == 4
    assert pauses == [7.0, 0.25, 2.0]  # as asked, as asked, the third back-off ceiling


def test_a_bad_request_and_exhausted_retries_keep_the_endpoints_error(endpoint):
    pauses: list[float] = []
    retry = RetryPolicy(attempts=2, sleep=pauses.append, jitter=lambda: 0.0)
    EmbeddingsHandler.failures = [(400, {})]
    with pytest.raises(EmbeddingError, match="400 Bad Request"):
        RemoteEmbedder(endpoint, "m", None, 384, batch_size=4, retry=retry).embed(["x"])
    EmbeddingsHandler.failures = [(503, {}), (503, {})]
    with pytest.raises(EmbeddingError, match="503 Service Unavailable"):
        RemoteEmbedder(endpoint, "m", None, 384, batch_size=4, retry=retry).embed(["x"])
    assert (len(EmbeddingsHandler.requests), pauses) == (3, [0.0])


def test_settings_choose_the_remote_embedder(endpoint):
    embedder = create_embedder(Settings(embedding_base_url=endpoint, embedding_model="nomic-embed-text"))
    assert isinstance(embedder, RemoteEmbedder) and embedder.model == "nomic-embed-text"


def test_the_dimension_is_a_default_not_a_limit():
    embedder = create_embedder(Settings(embedding_base_url="http://x", embedding_model="m", embedding_dimensions=1536))
    assert embedder.dimension == 1536  # its stores live in chunk_vectors (service/spaces.py)
    with pytest.raises(ValueError, match="4000"):
        Settings(embedding_base_url="http://x", embedding_model="m", embedding_dimensions=4001)


def test_only_models_that_take_one_are_sent_dimensions():
    assert takes_dimensions("text-embedding-3-small") and takes_dimensions("openai/text-embedding-3-large")
    assert not takes_dimensions("nomic-embed-text") and not takes_dimensions("text-embedding-ada-002")


def test_another_local_model_is_refused():
    with pytest.raises(ValueError, match="RAGSTORE_EMBEDDING_BASE_URL"):
        Settings(embedding_model="bge-small")
