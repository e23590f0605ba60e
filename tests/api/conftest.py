"""A real ragstore server on a free port, its own database, and the official `openai` SDK as the client.

Every JSON response the server sends during a test is recorded and, when the test ends, checked against the schema
the OpenAI spec gives for that route and status (tests/api/reference/openai_vector_stores_openapi.yaml); ragstore's
own routes are checked against the OpenAPI document the app publishes.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
import yaml
from openai import OpenAI

from ragstore.api.app import create_app
from ragstore.config import Settings
from tests.support.openapi import validate, validate_own

API_KEY = "sk-ragstore-test"
SPEC = Path(__file__).parent / "reference" / "openai_vector_stores_openapi.yaml"
# The Responses routes are checked against OpenAI's Responses spec (its /conversations paths are not ragstore's).
RESPONSES_SPEC = Path(__file__).parent / "reference" / "openai_responses_openapi.yaml"
OWN_ROUTES = {"/v1/vector_stores/stats", "/healthz"}  # ragstore's own, not in OpenAI's spec


@dataclass
class Recorder:
    """Raw ASGI middleware: keeps (method, path, status, body) of every JSON response."""

    app: object
    seen: list[tuple[str, str, int, bytes]] = field(default_factory=list)

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status, chunks, is_json = 0, [], False

        async def capture(message):  # noqa: ANN001
            nonlocal status, is_json
            if message["type"] == "http.response.start":
                status = message["status"]
                is_json = any(k == b"content-type" and v.startswith(b"application/json") for k, v in message["headers"])
            elif message["type"] == "http.response.body" and is_json:
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if is_json:
            self.seen.append((scope["method"], scope["path"], status, b"".join(chunks)))


@dataclass
class Server:
    url: str
    settings: Settings
    recorder: Recorder
    app: object

    def client(self, **options) -> OpenAI:
        return OpenAI(base_url=f"{self.url}/v1", api_key=API_KEY, max_retries=0, **options)


@pytest.fixture
def start_server(database_url: str, embedder, tmp_path: Path) -> Iterator:
    """Start servers of their own on the test's fresh database, sharing the session's loaded model."""
    running: list[tuple[uvicorn.Server, threading.Thread, Recorder]] = []

    def start(**overrides) -> Server:
        options = {"api_key": API_KEY, "workers": 1, "max_upload_bytes": 4 * 1024 * 1024, **overrides}
        settings = Settings(database_url=database_url, data_dir=tmp_path / "data", **options)
        app = create_app(settings, embedder)
        recorder = Recorder(app)
        server = uvicorn.Server(uvicorn.Config(recorder, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            thread.join(0.05)
        running.append((server, thread, recorder))
        port = server.servers[0].sockets[0].getsockname()[1]
        return Server(f"http://127.0.0.1:{port}", settings, recorder, app)

    yield start
    for server, thread, recorder in running:
        server.should_exit = True
        thread.join(60)
        check_responses(recorder.seen, recorder.app.openapi())


@pytest.fixture
def api(start_server) -> Server:
    return start_server()


@pytest.fixture
def client(api: Server) -> OpenAI:
    return api.client()


def check_responses(seen: list[tuple[str, str, int, bytes]], own_spec: dict) -> None:
    """Every recorded JSON response matches the schema for its route and status: OpenAI's, else ragstore's own."""
    routes, own_routes = _routes(), _own_routes(own_spec)
    checked = 0
    for method, path, status, body in seen:
        component = _component(routes, method, path, status)
        if component is not None:
            spec = "responses" if path.startswith("/v1/responses") and status < 400 else "vector_stores"
            validate(component, json.loads(body), spec)
            checked += 1
        elif (ref := _own_ref(own_routes, method, path, status)) is not None:
            validate_own(own_spec, ref, json.loads(body))
            checked += 1
    assert checked or not seen


def _routes() -> list[tuple[re.Pattern[str], str, dict]]:
    spec = yaml.safe_load(SPEC.read_text())
    responses = yaml.safe_load(RESPONSES_SPEC.read_text())["paths"]
    paths = {**spec["paths"], **{t: ops for t, ops in responses.items() if t.startswith("/responses")}}
    routes = []
    for template, operations in paths.items():
        pattern = re.compile("^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        for method, operation in operations.items():
            routes.append((pattern, method.upper(), operation))
    return routes


def _own_routes(spec: dict) -> list[tuple[re.Pattern[str], str, dict]]:
    # Literal paths first, so that /v1/conversations/export is not taken for /v1/conversations/{conversation_id}.
    templates = sorted(spec["paths"], key=lambda template: template.count("{"))
    return [
        (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), method.upper(), operation)
        for template in templates
        for method, operation in spec["paths"][template].items()
    ]


def _own_ref(routes, method: str, path: str, status: int) -> str | None:  # noqa: ANN001
    for pattern, route_method, operation in routes:
        if route_method == method and pattern.match(path):
            responses = operation["responses"]
            found = responses.get(str(status)) or responses.get(f"{status // 100}XX", {})
            return found.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return None


def _component(routes, method: str, path: str, status: int) -> str | None:  # noqa: ANN001
    if status >= 400:
        return None if path.startswith("/rest/") else "ErrorResponse"  # PostgREST's shape: ragstore's own spec
    if path in OWN_ROUTES:
        return None
    for pattern, route_method, operation in routes:
        if route_method == method and pattern.match(path):
            content = operation["responses"].get(str(status), {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            return ref.rsplit("/", 1)[-1] if ref else None
    return None
