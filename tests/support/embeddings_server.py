"""A stand-in for a remote embedding model of another dimension: a real HTTP server speaking OpenAI's /embeddings
wire format (the one allowed fake: a network edge that cannot be reached here).

Its vectors are the local model's, extended by a fixed random projection to `dimension` and normalised: a different
space with a different dimension whose neighbourhoods resemble the local model's, so that a re-embedded store still
finds what it found before, and a report's overlap is high but not 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import numpy as np

from ragstore.ingest.embed import Embedder
from tests.support.serving import serving


@dataclass
class EmbeddingsServer:
    url: str
    model: str
    dimension: int
    requests: list[dict] = field(default_factory=list)


def _handler(state: EmbeddingsServer, local: Embedder, projection: np.ndarray) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, "count": len(body["input"])})
            base = local.embed(body["input"])
            vectors = np.hstack([base, base @ projection.T])
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
            payload = json.dumps({"object": "list", "data": data, "model": body["model"], "usage": {}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    return Handler


@contextmanager
def embeddings_server(
    local: Embedder, model: str = "stand-in-embed-512", dimension: int = 512
) -> Iterator[EmbeddingsServer]:
    """A running stand-in at http://127.0.0.1:<port>/v1, stopped on exit."""
    projection = np.random.default_rng(7).normal(size=(dimension - local.dimension, local.dimension)) * 0.5
    state = EmbeddingsServer("", model, dimension)
    with serving(_handler(state, local, projection.astype(np.float32))) as url:
        state.url = url
        yield state
