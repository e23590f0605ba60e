"""Fuzzing: schemathesis sends requests made from ragstore's own OpenAPI document (/openapi.json) to a real server.

Every operation of the document is exercised with valid and invalid inputs: no response may be a server error, and
every response must carry a status the document declares, with a body that matches the schema declared for it.
The server is seeded first (a store with a processed file, a batch, a conversation with an answer and its rating, a
training example, a dataset, a tenant), and the generated ids in paths are half of the time swapped for those of the
seeded objects, so that requests reach the objects themselves and not only the 404 of unknown ids. Generation is
derandomized: a run is the same run every time.
"""

from __future__ import annotations

import io

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from openai import OpenAI
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ragstore.api.app import create_app
from ragstore.config import Settings
from tests.api.conftest import API_KEY
from tests.support.chat import Rest

EXAMPLES_PER_OPERATION = 25
PARKING = b"# Parking\n\nVisitors park on level B1. Staff park on level B2, next to the bicycles.\n"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Ids of seeded objects, by the name of the path parameter that takes them; filled by the `known` fixture.
KNOWN: dict[str, str] = {}
schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="postgresql://unused/none")).openapi())


@schema.hook
def flatmap_path_parameters(context, path_parameters):  # noqa: ANN001
    """The generated ids, or those of the seeded objects (never for DELETE, which would remove them for the rest)."""
    operation = context.operation
    if operation is None or operation.method.upper() == "DELETE" or not path_parameters:
        return st.just(path_parameters)
    seeded = {name: KNOWN.get(name, value) for name, value in path_parameters.items()}
    return st.sampled_from([seeded, path_parameters])


@schema.hook
def map_body(context, body):  # noqa: ANN001
    """A blank query or question is refused before anything else is looked at: give it words, so that the filters
    and options generated with it reach the search itself."""
    if isinstance(body, dict):
        for key in ("query", "question"):
            if isinstance(body.get(key), str) and not body[key].strip():
                body = {**body, key: "where do visitors park"}
    return body


@pytest.fixture(scope="module")
def known(fuzz_server) -> dict[str, str]:
    assert httpx.get(f"{fuzz_server.url}/openapi.json").json() == schema.raw_schema  # the document fuzzed is served
    KNOWN.update(seed(fuzz_server.client()))
    return KNOWN


def seed(client: OpenAI) -> dict[str, str]:
    """Objects of every kind, and their ids by the names of the path parameters that take them."""
    rest = Rest(client)
    file = client.files.create(file=("parking.md", io.BytesIO(PARKING)), purpose="assistants")
    store = client.vector_stores.create(name="fuzz")
    batch = client.vector_stores.file_batches.create_and_poll(vector_store_id=store.id, file_ids=[file.id])
    assert batch.file_counts.completed == 1
    answer = rest.post(
        "/answers", {"question": "Where do visitors park?", "vector_store_ids": [store.id], "user_id": "ana"}
    )
    conversation_id = answer["conversation_id"]
    rest.post(f"/conversations/{conversation_id}/items/{answer['id']}/feedback", {"rating": 5})
    example = rest.get("/training_examples")["data"][0]
    rest.post(f"/training_examples/{example['id']}", {"status": "approved"})
    dataset = rest.post("/datasets", {"name": "fuzz", "example_ids": [example["id"]]})
    tenant = rest.post("/admin/tenants", {"name": "acme"})
    return {
        "file_id": file.id,
        "vector_store_id": store.id,
        "batch_id": batch.id,
        "conversation_id": conversation_id,
        "item_id": answer["id"],
        "example_id": example["id"],
        "dataset_id": dataset["id"],
        "tenant": tenant["id"],
    }


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_documented(case, fuzz_server, known):
    case.call_and_validate(
        base_url=fuzz_server.url, headers={"Authorization": f"Bearer {API_KEY}"}, checks=CHECKS, timeout=60
    )
