"""Random and adversarial JSON bodies, sent raw (what no SDK would send), to every operation of the published OpenAPI
document that takes a JSON body: never a 5xx, never a traceback, always the error envelope for a refusal (OpenAI's
under /v1, PostgREST's under /rest/v1).

Bodies are objects whose keys are mostly the operation's own (so that values reach its fields and the code behind
them) and whose values are hostile: lone surrogates and NULs (as JSON escapes), strings just past the limits table's
bounds, numbers as strings and booleans as numbers, integers of 400 digits, deep nesting, long lists. The time each
request took is recorded and the slowest printed (a measure, not an assertion: see README, Limits).
"""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import strategies as st

from ragstore.api import limits
from tests.api.conftest import API_KEY
from tests.fuzz.test_schemathesis import PARKING, schema
from tests.support.chat import Rest

SLOWEST: list[tuple[float, str, int]] = []
HOSTILE_STRINGS = st.sampled_from(
    [
        "\ud800",
        "a\udfffb",
        "\x00",
        "nul\x00inside",
        "x" * (limits.NAME_CHARS + 1),
        "w " * (limits.QUERY_CHARS // 2 + 1),
        "y" * (limits.ITEM_CHARS + 1),
        "10",
        "true",
        "",
        " ",
        "vs_' OR 1=1 --",
        "\u202e\ufeff",
    ]
)
SCALARS = st.one_of(
    HOSTILE_STRINGS,
    st.text(max_size=50),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=10), inner, max_size=5)),
    max_leaves=20,
)


def json_operations() -> list[tuple[str, str, list[str]]]:
    """(method, path, body property names) of every operation that takes a JSON body."""
    found = []
    for path, item in schema.raw_schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path, sorted(_properties(content["application/json"]["schema"]))))
    return found


def _properties(node: dict[str, Any]) -> set[str]:
    ref = node.get("$ref")
    if ref:
        node = schema.raw_schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    names = set(node.get("properties", {}))
    for key in ("anyOf", "oneOf", "allOf"):
        for option in node.get(key, []):
            names |= _properties(option)
    return names


OPERATIONS = json_operations()


def body_for(names: list[str]) -> st.SearchStrategy[Any]:
    keys = st.sampled_from(names) if names else st.text(max_size=10)
    return st.one_of(
        st.dictionaries(keys, VALUES, max_size=6),
        st.dictionaries(st.one_of(keys, HOSTILE_STRINGS), VALUES, max_size=4),
        VALUES,
        st.integers(min_value=1, max_value=200).map(lambda depth: _nested(depth)),
    )


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"type": "eq", "key": "k", "value": "v"}
    for _ in range(depth):
        value = {"type": "and", "filters": [value]}
    return {"query": "parking", "filters": value, "question": "parking?", "vector_store_ids": ["vs_x"]}


@pytest.fixture(scope="module")
def ids(fuzz_server) -> dict[str, str]:
    client = fuzz_server.client()
    file = client.files.create(file=("parking.md", io.BytesIO(PARKING)), purpose="assistants")
    store = client.vector_stores.create(name="adversarial", file_ids=[file.id])
    conversation = Rest(client).post("/conversations", {})
    yield {"vector_store_id": store.id, "file_id": file.id, "conversation_id": conversation["id"]}
    if SLOWEST:
        elapsed, label, status = max(SLOWEST)
        print(f"\nadversarial JSON: {len(SLOWEST)} requests, slowest {elapsed * 1000:.0f} ms ({label} -> {status})")


@pytest.mark.parametrize(("method", "path", "names"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
@hypothesis.settings(
    max_examples=30, derandomize=True, deadline=None, database=None, suppress_health_check=list(hypothesis.HealthCheck)
)
@hypothesis.given(data=st.data())
def test_hostile_json_is_never_a_server_error(fuzz_server, ids, method, path, names, data):
    body = data.draw(body_for(names))
    url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "x_unknown"), path)
    started = time.perf_counter()
    response = httpx.request(
        method,
        f"{fuzz_server.url}{url}",
        content=json.dumps(body).encode(),  # ensure_ascii: a lone surrogate goes as its escape, "\ud800"
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        timeout=120,
    )
    SLOWEST.append((time.perf_counter() - started, f"{method} {path}", response.status_code))
    assert response.status_code < 500, (method, url, body, response.text[:500])
    assert "Traceback" not in response.text
    if response.status_code >= 400 and path.startswith("/rest/"):  # /rest/v1/rpc speaks PostgREST's errors
        assert "message" in response.json()
    elif response.status_code >= 400:  # /v1 and seed 004's /api/vector-stores: OpenAI's envelope
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
