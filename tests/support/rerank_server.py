"""A stand-in for a remote reranking model: a real HTTP server speaking the Cohere/Jina/TEI /rerank wire format (the
one allowed fake: a network edge that cannot be reached here).

It reverses the order it is given: document i of n scores (i + 1) / n, so the search's last candidate comes first
and a test knows every score; `fail` makes it answer 503.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.support.serving import serving


@dataclass
class RerankServer:
    url: str
    requests: list[dict] = field(default_factory=list)
    fail: bool = False


def relevance(index: int, count: int) -> float:
    return (index + 1) / count


def _handler(state: RerankServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, **body})
            if state.fail:
                self.send_response(503)
                self.end_headers()
                return
            scores = [relevance(i, len(body["documents"])) for i in range(len(body["documents"]))]
            order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[: body["top_n"]]
            results = [{"index": i, "relevance_score": scores[i]} for i in order]
            payload = json.dumps({"results": results, "model": body["model"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def rerank_server() -> Iterator[RerankServer]:
    state = RerankServer(url="")
    with serving(_handler(state)) as url:
        state.url = url
        yield state
