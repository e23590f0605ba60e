"""One real server for the whole fuzzing module: its own database, the session's model, every response recorded and
checked at the end against OpenAI's spec (its routes) or ragstore's own document (the others), as in tests/api."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
import uvicorn
from schemathesis.core.errors import InvalidSchema

from ragstore.api.app import create_app
from ragstore.config import Settings
from tests.api.conftest import API_KEY, Recorder, Server, check_responses
from tests.conftest import TEMPLATE, with_database

DATABASE = "fuzz_api"
# schemathesis' negative-data generator now and then fails to make an array for a schema like
# `{"type": "array", "items": {"type": "string"}, "minItems": 1}` (an upstream bug, schemathesis issue #4282 and its
# kin, not fixed in 4.32.5): a generator error, which says nothing about ragstore. Such a case is reported as a
# skip with the generator's message; every other failure stays a failure.
GENERATOR_BUG = "Cannot generate an array with"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    outcome = yield
    error = outcome.excinfo[1] if outcome.excinfo else None
    if isinstance(error, InvalidSchema) and GENERATOR_BUG in str(error):
        outcome.force_exception(pytest.skip.Exception(f"schemathesis could not generate this case: {error}"))


@pytest.fixture(scope="module")
def fuzz_server(server_url: str, template_url: str, embedder, tmp_path_factory) -> Iterator[Server]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE} TEMPLATE {TEMPLATE}")
    settings = Settings(
        database_url=with_database(server_url, DATABASE),
        data_dir=tmp_path_factory.mktemp("fuzz") / "data",
        api_key=API_KEY,
        admin_key=API_KEY,  # one key for /v1 and /v1/admin alike
        workers=1,
        max_upload_bytes=4 * 1024 * 1024,
    )
    app = create_app(settings, embedder)
    recorder = Recorder(app)
    server = uvicorn.Server(uvicorn.Config(recorder, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        thread.join(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Server(f"http://127.0.0.1:{port}", settings, recorder, app)
    finally:
        server.should_exit = True
        thread.join(60)
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {DATABASE} WITH (FORCE)")
    check_responses(recorder.seen, app.openapi())
