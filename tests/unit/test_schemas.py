"""Wire models against OpenAI's spec: responses dump to schema-valid JSON, requests enforce the documented bounds."""

from __future__ import annotations

import json
from types import SimpleNamespace

import openai.types as sdk
import openai.types.vector_stores as sdk_vs
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from ragstore.api import base, schemas, search_schemas
from tests.support.openapi import component_names, validate

# The wire models of Files and Vector Stores live in three modules (the base and envelopes, files and stores,
# search): one namespace here, as the spec has one list of components.
s = SimpleNamespace(**{**vars(base), **vars(search_schemas), **vars(schemas)})

COUNTS = s.VectorStoreFileCounts(in_progress=1, completed=2, failed=0, cancelled=0, total=3)
STATIC = s.StaticChunkingStrategyResponseParam(
    static=s.StaticChunkingStrategy(max_chunk_size_tokens=800, chunk_overlap_tokens=400)
)
FILE = s.OpenAIFile(
    id="file-abc", bytes=120, created_at=1_700_000_000, filename="a.pdf", purpose="assistants", status="processed"
)
EXPIRING_FILE = FILE.model_copy(update={"expires_at": 1_800_000_000, "status": "error", "status_details": "bad"})
STORE = s.VectorStoreObject(
    id="vs_abc",
    created_at=1_700_000_000,
    name="handbook",
    usage_bytes=4096,
    file_counts=COUNTS,
    status="in_progress",
    last_active_at=1_700_000_100,
    metadata={"team": "support"},
    embedding_model="text-embedding-3-small",  # ragstore's extensions: additional properties, valid for OpenAI's schema
    embedding_dimension=1536,
    provider_id="openai",
)
EXPIRING_STORE = STORE.model_copy(
    update={
        "expires_after": s.VectorStoreExpirationAfter(anchor="last_active_at", days=7),
        "expires_at": 1_700_604_900,
        "status": "expired",
    }
)
BARE_STORE = STORE.model_copy(update={"name": "", "last_active_at": None, "metadata": None})
STORE_FILE = s.VectorStoreFileObject(
    id="file-abc",
    usage_bytes=2048,
    created_at=1_700_000_000,
    vector_store_id="vs_abc",
    status="completed",
    last_error=None,
    chunking_strategy=STATIC,
    attributes={"author": "Ann", "year": 2024, "score": 0.5, "draft": False},
)
FAILED_FILE = s.VectorStoreFileObject(
    id="file-def",
    usage_bytes=0,
    created_at=1_700_000_001,
    vector_store_id="vs_abc",
    status="failed",
    last_error=s.VectorStoreFileLastError(code="unsupported_file", message="Cannot parse .exe files."),
    chunking_strategy=s.OtherChunkingStrategyResponseParam(),
)
BARE_FILE = FAILED_FILE.model_copy(update={"chunking_strategy": None, "last_error": None, "status": "in_progress"})
BATCH = s.VectorStoreFileBatchObject(
    id="vsfb_abc", created_at=1_700_000_000, vector_store_id="vs_abc", status="in_progress", file_counts=COUNTS
)
HIT = s.VectorStoreSearchResultItem(
    file_id="file-abc",
    filename="a.pdf",
    score=0.87,
    attributes={"author": "Ann"},
    content=[s.VectorStoreSearchResultContentObject(text="The return window is 30 days.")],
)
PAGE = s.VectorStoreSearchResultsPage(search_query=["return policy"], data=[HIT], has_more=False, next_page=None)

RESPONSES = [
    FILE,
    EXPIRING_FILE,
    s.ListFilesResponse.page([FILE, EXPIRING_FILE], has_more=True),
    s.ListFilesResponse.page([], has_more=False),
    s.DeleteFileResponse(id="file-abc", deleted=True),
    STORE,
    EXPIRING_STORE,
    BARE_STORE,
    s.ListVectorStoresResponse.page([STORE, BARE_STORE], has_more=False),
    s.DeleteVectorStoreResponse(id="vs_abc", deleted=True),
    STORE_FILE,
    FAILED_FILE,
    BARE_FILE,
    s.ListVectorStoreFilesResponse.page([STORE_FILE, FAILED_FILE, BARE_FILE], has_more=False),
    s.DeleteVectorStoreFileResponse(id="file-abc", deleted=True),
    BATCH,
    s.VectorStoreFileContentResponse(
        data=[s.VectorStoreFileContentItem(text="Page one.")], has_more=False, next_page=None
    ),
    s.VectorStoreFileContentResponse(data=[], has_more=True, next_page="cursor-2"),
    PAGE,
    s.VectorStoreSearchResultsPage(
        search_query=["a", "b"], data=[HIT.model_copy(update={"attributes": None})], has_more=False, next_page=None
    ),
    s.ErrorResponse(
        error=s.Error(message="No vector store found", type="invalid_request_error", param=None, code=None)
    ),
    s.ErrorResponse(error=s.Error(message="Bad limit", type="invalid_request_error", param="limit", code="bad")),
]


def dump(model: BaseModel) -> dict:
    """Exactly as the router dumps a response."""
    return model.model_dump(mode="json")


@pytest.mark.parametrize("model", RESPONSES, ids=lambda model: type(model).__name__)
def test_responses_match_their_component(model):
    validate(type(model).__name__, dump(model))
    assert json.loads(model.model_dump_json()) == dump(model)


@pytest.mark.parametrize(
    ("sdk_type", "model"),
    [
        (sdk.FileObject, EXPIRING_FILE),
        (sdk.FileDeleted, s.DeleteFileResponse(id="file-abc", deleted=True)),
        (sdk.VectorStore, EXPIRING_STORE),
        (sdk.VectorStoreDeleted, s.DeleteVectorStoreResponse(id="vs_abc", deleted=True)),
        (sdk_vs.VectorStoreFile, STORE_FILE),
        (sdk_vs.VectorStoreFile, FAILED_FILE),
        (sdk_vs.VectorStoreFileDeleted, s.DeleteVectorStoreFileResponse(id="file-abc", deleted=True)),
        (sdk_vs.VectorStoreFileBatch, BATCH),
        (sdk.VectorStoreSearchResponse, HIT),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_the_sdk_reads_what_we_write(sdk_type, model):
    parsed = sdk_type.model_validate(dump(model))
    assert parsed.model_dump(mode="json", exclude_unset=True) == dump(model)


def test_optional_non_nullable_fields_are_left_out_and_nullable_ones_sent_as_null():
    assert {"expires_at", "status_details"}.isdisjoint(dump(FILE))
    assert dump(EXPIRING_FILE)["expires_at"] == 1_800_000_000
    store = dump(BARE_STORE)
    assert "expires_after" not in store
    assert store["expires_at"] is None and store["last_active_at"] is None and store["metadata"] is None
    listed = dump(s.ListVectorStoreFilesResponse.page([BARE_FILE], has_more=False))["data"][0]
    assert "chunking_strategy" not in listed and listed["last_error"] is None and listed["attributes"] is None


def test_attribute_values_keep_their_json_type():
    attributes = dump(STORE_FILE)["attributes"]
    assert [type(value) for value in attributes.values()] == [str, int, float, bool]


def test_list_envelope_takes_ids_from_its_page():
    page = dump(s.ListVectorStoresResponse.page([STORE, BARE_STORE], has_more=True))
    assert (page["object"], page["first_id"], page["last_id"], page["has_more"]) == ("list", "vs_abc", "vs_abc", True)
    empty = dump(s.ListFilesResponse.page([], has_more=False))
    assert empty == {"object": "list", "data": [], "first_id": "", "last_id": "", "has_more": False}


def test_fastapi_response_model_serializes_the_same_way():
    app = FastAPI()

    @app.get("/file", response_model=s.OpenAIFile)
    def get_file() -> s.OpenAIFile:
        return FILE

    assert TestClient(app).get("/file").json() == dump(FILE)


def test_every_component_has_a_model_of_the_same_name():
    not_models = {"CreateFileRequest", "Metadata", "VectorStoreFileAttributes", "ChunkingStrategyRequestParam"}
    assert [name for name in component_names() if name not in not_models and not hasattr(s, name)] == []
    for name in ["Metadata", "VectorStoreFileAttributes", "ChunkingStrategyRequestParam"]:
        assert hasattr(s, name)  # as type aliases


# ---------------------------------------------------------------------------------------------------------------------
# Requests

STATIC_PARAM = {"type": "static", "static": {"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 200}}
VALID_REQUESTS = [
    (s.CreateVectorStoreRequest, {}),
    (
        s.CreateVectorStoreRequest,
        {
            "file_ids": ["file-a"],
            "name": "kb",
            "description": "docs",
            "expires_after": {"anchor": "last_active_at", "days": 365},
            "chunking_strategy": {"type": "auto"},
            "metadata": {"k" * 64: "v" * 512},
        },
    ),
    (s.CreateVectorStoreRequest, {"metadata": None, "chunking_strategy": STATIC_PARAM}),
    (s.UpdateVectorStoreRequest, {"name": None, "expires_after": None, "metadata": None}),
    (s.UpdateVectorStoreRequest, {"name": "x", "expires_after": {"anchor": "last_active_at", "days": 1}}),
    (s.CreateVectorStoreFileRequest, {"file_id": "file-a", "chunking_strategy": STATIC_PARAM, "attributes": None}),
    (s.UpdateVectorStoreFileAttributesRequest, {"attributes": None}),
    (s.UpdateVectorStoreFileAttributesRequest, {"attributes": {f"k{i}": i for i in range(16)}}),
    (s.CreateVectorStoreFileBatchRequest, {"file_ids": ["file-a"], "attributes": {"a": True}}),
    (
        s.CreateVectorStoreFileBatchRequest,
        {"files": [{"file_id": "file-a", "chunking_strategy": {"type": "auto"}}, {"file_id": "file-b"}]},
    ),
    (s.VectorStoreSearchRequest, {"query": "refunds"}),
    (
        s.VectorStoreSearchRequest,
        {
            "query": ["refunds", "returns"],
            "rewrite_query": True,
            "max_num_results": 50,
            "filters": {"type": "eq", "key": "lang", "value": "en"},
            "ranking_options": {"ranker": "none", "score_threshold": 1},
        },
    ),
]


@pytest.mark.parametrize(("model", "body"), VALID_REQUESTS, ids=lambda value: getattr(value, "__name__", ""))
def test_valid_requests_are_accepted_here_and_by_the_spec(model, body):
    validate(model.__name__, body)
    parsed = model.model_validate(body)
    validate(model.__name__, parsed.model_dump(mode="json", exclude_unset=True))


@pytest.mark.parametrize(("model", "body"), VALID_REQUESTS, ids=lambda value: getattr(value, "__name__", ""))
def test_unknown_fields_are_rejected(model, body):
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate({**body, "unknown": 1})


def too_many(n: int) -> dict[str, str]:
    return {f"k{i}": "v" for i in range(n)}


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (s.VectorStoreSearchRequest, {"query": "q", "max_num_results": 0}),
        (s.VectorStoreSearchRequest, {"query": "q", "max_num_results": 51}),
        (s.VectorStoreSearchRequest, {"query": []}),
        (s.VectorStoreSearchRequest, {"query": "q", "ranking_options": {"score_threshold": 1.5}}),
        (s.VectorStoreSearchRequest, {"query": "q", "ranking_options": {"ranker": "fast"}}),
        (s.VectorStoreSearchRequest, {"query": "q", "filters": {"type": "xor", "filters": []}}),
        (s.VectorStoreSearchRequest, {"query": "q", "filters": None}),
        (s.CreateVectorStoreRequest, {"metadata": too_many(17)}),
        (s.CreateVectorStoreRequest, {"metadata": {"k" * 65: "v"}}),
        (s.CreateVectorStoreRequest, {"metadata": {"k": "v" * 513}}),
        (s.CreateVectorStoreRequest, {"metadata": {"k": 1}}),
        (s.CreateVectorStoreRequest, {"file_ids": ["file-a"] * 501}),
        (s.CreateVectorStoreRequest, {"expires_after": {"anchor": "last_active_at", "days": 366}}),
        (s.CreateVectorStoreRequest, {"expires_after": {"anchor": "created_at", "days": 1}}),
        (s.CreateVectorStoreRequest, {"name": None}),
        (s.CreateVectorStoreRequest, {"chunking_strategy": {"type": "other"}}),
        (s.UpdateVectorStoreRequest, {"metadata": too_many(17)}),
        (s.CreateVectorStoreFileRequest, {}),
        (s.CreateVectorStoreFileRequest, {"file_id": "f", "attributes": {"k": "v" * 513}}),
        (s.CreateVectorStoreFileRequest, {"file_id": "f", "attributes": {"k" * 65: 1}}),
        (s.CreateVectorStoreFileRequest, {"file_id": "f", "attributes": too_many(17)}),
        (s.CreateVectorStoreFileRequest, {"file_id": "f", "attributes": {"k": [1]}}),
        (s.CreateVectorStoreFileRequest, {"file_id": "f", "chunking_strategy": None}),
        (s.UpdateVectorStoreFileAttributesRequest, {}),
        (s.CreateVectorStoreFileBatchRequest, {"file_ids": []}),
        (s.CreateVectorStoreFileBatchRequest, {"file_ids": ["f"] * 2001}),
        (s.CreateVectorStoreFileBatchRequest, {"files": [{"file_id": "f", "unknown": 1}]}),
    ],
)
def test_out_of_bounds_requests_are_rejected(model, body):
    with pytest.raises(ValidationError):
        model.model_validate(body)


@pytest.mark.parametrize(
    ("size", "overlap", "ok"),
    [(99, 0, False), (100, 0, True), (4096, 2048, True), (4097, 0, False), (400, 201, False), (400, -1, False)],
)
def test_static_chunking_bounds(size, overlap, ok):
    body = {"file_id": "f", "chunking_strategy": {"type": "static", "static": {}}}
    body["chunking_strategy"]["static"] = {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}
    if ok:
        parsed = s.CreateVectorStoreFileRequest.model_validate(body)
        assert isinstance(parsed.chunking_strategy, s.StaticChunkingStrategyRequestParam)
        assert parsed.chunking_strategy.static.chunk_overlap_tokens == overlap
    else:
        with pytest.raises(ValidationError):
            s.CreateVectorStoreFileRequest.model_validate(body)


@pytest.mark.parametrize(
    "body", [{}, {"file_ids": ["file-a"], "files": [{"file_id": "file-b"}]}, {"attributes": {"a": 1}}]
)
def test_batch_takes_file_ids_or_files_exactly_once(body):
    with pytest.raises(ValidationError, match="exactly one of 'file_ids' or 'files'"):
        s.CreateVectorStoreFileBatchRequest.model_validate(body)


def test_nested_compound_filters_parse_into_typed_models():
    body = {
        "query": ["refunds", "returns"],
        "filters": {
            "type": "and",
            "filters": [
                {"type": "eq", "key": "draft", "value": False},
                {
                    "type": "or",
                    "filters": [
                        {"type": "gte", "key": "year", "value": 2023},
                        {"type": "in", "key": "lang", "value": ["en", "fr", 3.5]},
                    ],
                },
            ],
        },
    }
    validate("VectorStoreSearchRequest", body)
    request = s.VectorStoreSearchRequest.model_validate(body)
    assert request.query == ["refunds", "returns"]
    assert (request.rewrite_query, request.max_num_results, request.ranking_options) == (False, 10, None)
    top = request.filters
    assert isinstance(top, s.CompoundFilter) and top.type == "and"
    draft, inner = top.filters
    assert isinstance(draft, s.ComparisonFilter) and draft.value is False
    assert isinstance(inner, s.CompoundFilter) and inner.type == "or"
    assert [f.value for f in inner.filters] == [2023, ["en", "fr", 3.5]]
    assert type(inner.filters[0].value) is int


def test_ranking_options_defaults():
    request = s.VectorStoreSearchRequest.model_validate({"query": "q", "ranking_options": {}})
    assert request.ranking_options == s.RankingOptions(ranker="auto", score_threshold=0)


def test_update_records_which_fields_were_sent_even_as_null():
    request = s.UpdateVectorStoreRequest.model_validate({"name": None, "metadata": {"a": "b"}})
    assert request.model_fields_set == {"name", "metadata"}
    assert request.name is None and request.expires_after is None
    assert s.UpdateVectorStoreRequest.model_validate({}).model_fields_set == set()


def test_file_attributes_update_requires_the_key_but_accepts_null():
    assert s.UpdateVectorStoreFileAttributesRequest.model_validate({"attributes": None}).attributes is None


# ---------------------------------------------------------------------------------------------------------------------
# The validator itself


def test_validator_reports_a_missing_required_field():
    body = dump(STORE)
    del body["file_counts"]["total"]
    with pytest.raises(AssertionError, match=r"\$\.file_counts: 'total' is a required property"):
        validate("VectorStoreObject", body)


def test_validator_reports_a_wrong_enum():
    with pytest.raises(AssertionError, match=r"\$\.status: 'ready' is not one of"):
        validate("VectorStoreFileBatchObject", {**dump(BATCH), "status": "ready"})


@pytest.mark.parametrize(
    ("component", "body"),
    [
        ("OpenAIFile", {**dump(FILE), "expires_at": None}),
        ("VectorStoreObject", {**dump(STORE), "expires_after": None}),
        ("VectorStoreObject", {**dump(STORE), "name": None}),
        ("VectorStoreFileObject", {**dump(STORE_FILE), "chunking_strategy": {"type": "auto"}}),
        ("VectorStoreSearchResultItem", {**dump(HIT), "score": 1.2}),
        ("VectorStoreSearchResultsPage", {**dump(PAGE), "extra": 1}),
        ("UpdateVectorStoreRequest", {"name": 5}),
        ("CompoundFilter", {"type": "and", "filters": [{"type": "eq", "key": "k"}]}),
    ],
)
def test_validator_rejects_what_the_spec_forbids(component, body):
    with pytest.raises(AssertionError, match=f"does not match {component}"):
        validate(component, body)


def test_validator_knows_the_components():
    assert {"VectorStoreObject", "CompoundFilter", "ErrorResponse"} <= set(component_names())
    with pytest.raises(AssertionError, match="no component named"):
        validate("NotAComponent", {})
