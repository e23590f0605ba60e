"""A stand-in for remote embedding models of other dimensions: a real HTTP server speaking OpenAI's /embeddings
wire format (the one allowed fake: a network edge that cannot be reached here).

Its vectors are the local model's, extended by a fixed random projection (one per model) to the model's dimension
and normalised: a different space with a different dimension whose neighbourhoods resemble the local model's, so
that a re-embedded store still finds what it found before, and a report's overlap is high but not 1. A model named
text-embedding-3-* honours `dimensions` as OpenAI's do (the vector cut to that length, then normalised); an unknown
model is a 404 in OpenAI's error shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
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
    models: dict[str, int] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)


def _handler(
    state: EmbeddingsServer, local: Embedder, projections: Mapping[str, np.ndarray]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(
                {
                    "path": self.path,
                    "count": len(body["input"]),
                    "model": body["model"],
                    "dimensions": body.get("dimensions"),
                }
            )
            if body["model"] not in projections:
                error = {"message": f"The model `{body['model']}` does not exist", "type": "invalid_request_error"}
                return self._send(404, {"error": {**error, "param": None, "code": "model_not_found"}})
            base = local.embed(body["input"])
            vectors = np.hstack([base, base @ projections[body["model"]].T])
            if body.get("dimensions") and body["model"].startswith("text-embedding-3"):
                vectors = vectors[:, : body["dimensions"]]
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
            self._send(200, {"object": "list", "data": data, "model": body["model"], "usage": {}})

        def _send(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    return Handler


@contextmanager
def embeddings_server(
    local: Embedder, model: str = "stand-in-embed-512", dimension: int = 512, models: Mapping[str, int] | None = None
) -> Iterator[EmbeddingsServer]:
    """A running stand-in at http://127.0.0.1:<port>/v1 serving `model` (or each of `models`, name to dimension),
    stopped on exit."""
    served = dict(models or {model: dimension})
    rng = np.random.default_rng(7)
    projections = {
        name: (rng.normal(size=(dim - local.dimension, local.dimension)) * 0.5).astype(np.float32)
        for name, dim in served.items()
    }
    first, first_dim = next(iter(served.items()))
    state = EmbeddingsServer("", first, first_dim, served)
    with serving(_handler(state, local, projections)) as url:
        state.url = url
        yield state
