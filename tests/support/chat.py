"""ragstore's own endpoints through the official SDK's generic requests, and server-sent events over httpx."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
from openai import OpenAI

from tests.support.documents import Document


class Rest:
    """GET/POST/DELETE on ragstore's own routes with the SDK's client: same auth, errors raised as SDK errors."""

    def __init__(self, client: OpenAI) -> None:
        self.client = client

    def get(self, path: str, **params: Any) -> Any:
        clean = {key: value for key, value in params.items() if value is not None}
        return self.client.get(path, cast_to=object, options={"params": clean})

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, cast_to=object, body=body or {})

    def delete(self, path: str) -> Any:
        return self.client.delete(path, cast_to=object)

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every object of a list, page after page."""
        after = None
        while True:
            page = self.get(path, after=after, **params)
            yield from page["data"]
            if not page["has_more"]:
                return
            after = page["last_id"]


def make_store(client: OpenAI, documents: list[Document], name: str = "kb") -> str:
    """A store holding the documents, processed; its id."""
    store = client.vector_stores.create(name=name)
    files = [client.files.create(file=(d.filename, io.BytesIO(d.data)), purpose="assistants").id for d in documents]
    batch = client.vector_stores.file_batches.create_and_poll(vector_store_id=store.id, file_ids=files)
    assert batch.file_counts.completed == len(documents)
    return store.id


def stream_events(url: str, api_key: str, body: dict[str, Any]) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    """POST a streaming request; its status and (event, data) pairs, parsed as server-sent events."""
    events = []
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.stream("POST", url, json=body, headers=headers, timeout=60) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, [("http_error", response.json())]
        assert response.headers["content-type"].startswith("text/event-stream")
        kind, data = None, []
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:") :].strip())
            elif line == "" and data:
                events.append((kind or "message", json.loads("\n".join(data))))
                kind, data = None, []
    return 200, events
