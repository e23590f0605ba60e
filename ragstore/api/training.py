"""/v1/training_examples and /v1/datasets: curated fine-tuning data from rated answers.

An answer rated at or above RAGSTORE_TRAINING_MIN_RATING becomes a candidate example (or is picked by hand, or
collected afterwards with another threshold); a reviewer approves or rejects it; datasets group approved examples
and export them as JSONL: OpenAI's fine-tuning chat format, or retrieval triplets for embedding fine-tuning.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from ragstore.api import chat_schemas as wire
from ragstore.api.deps import RuntimeDep, TenantDep
from ragstore.api.listing import Limit, Order
from ragstore.chat import objects
from ragstore.models import PageRequest
from ragstore.service import training

examples_router = APIRouter(prefix="/v1/training_examples", tags=["Training data"])
datasets_router = APIRouter(prefix="/v1/datasets", tags=["Training data"])


def example_object(example: Any) -> wire.TrainingExampleObject:
    return wire.TrainingExampleObject(**objects.training_example(example))


def dataset_object(dataset: Any) -> wire.DatasetObject:
    return wire.DatasetObject(**objects.dataset(dataset))


@examples_router.post("", response_model=wire.TrainingExampleObject)
def pick_example(
    body: wire.CreateTrainingExampleRequest, runtime: RuntimeDep, tenant: TenantDep
) -> wire.TrainingExampleObject:
    """Make an answer a candidate by hand (its existing example, if it has one)."""
    return example_object(training.pick(runtime.db, tenant, body.message_id))


@examples_router.post("/collect", response_model=wire.TrainingExampleList)
def collect_examples(
    body: wire.CollectTrainingExamplesRequest, runtime: RuntimeDep, tenant: TenantDep
) -> wire.TrainingExampleList:
    """Candidates from every answer rated at least min_rating that has no example yet; the new ones are listed."""
    made = training.collect(runtime.db, tenant, body.min_rating, body.vector_store_id)
    return wire.TrainingExampleList.page([example_object(e) for e in made], has_more=False)


@examples_router.get("", response_model=wire.TrainingExampleList)
def list_examples(
    runtime: RuntimeDep,
    tenant: TenantDep,
    status: wire.Status | None = None,
    limit: Limit = 20,
    order: Order = "desc",
    after: str | None = None,
    before: str | None = None,
) -> wire.TrainingExampleList:
    page = training.list_examples(runtime.db, tenant, status, PageRequest(limit, order, after, before))
    return wire.TrainingExampleList.page([example_object(e) for e in page.items], has_more=page.has_more)


@examples_router.get("/{example_id}", response_model=wire.TrainingExampleObject)
def retrieve_example(example_id: str, runtime: RuntimeDep, tenant: TenantDep) -> wire.TrainingExampleObject:
    return example_object(training.get_example(runtime.db, tenant, example_id))


@examples_router.post("/{example_id}", response_model=wire.TrainingExampleObject)
def review_example(
    example_id: str, body: wire.UpdateTrainingExampleRequest, runtime: RuntimeDep, tenant: TenantDep
) -> wire.TrainingExampleObject:
    """Approve or reject an example (or put it back among the candidates)."""
    return example_object(training.review(runtime.db, tenant, example_id, body.status))


@examples_router.delete("/{example_id}", response_model=wire.DeletedObject)
def delete_example(example_id: str, runtime: RuntimeDep, tenant: TenantDep) -> wire.DeletedObject:
    """Delete an example; it leaves every dataset that held it."""
    training.delete_example(runtime.db, tenant, example_id)
    return wire.DeletedObject(id=example_id, object="training_example.deleted", deleted=True)


@datasets_router.post("", response_model=wire.DatasetObject)
def create_dataset(body: wire.CreateDatasetRequest, runtime: RuntimeDep, tenant: TenantDep) -> wire.DatasetObject:
    """A named dataset, with approved examples when given; names are unique."""
    made = training.create_dataset(runtime.db, tenant, body.name, body.description, body.example_ids)
    return dataset_object(made)


@datasets_router.get("", response_model=wire.DatasetList)
def list_datasets(
    runtime: RuntimeDep,
    tenant: TenantDep,
    limit: Limit = 20,
    order: Order = "desc",
    after: str | None = None,
    before: str | None = None,
) -> wire.DatasetList:
    page = training.list_datasets(runtime.db, tenant, PageRequest(limit, order, after, before))
    return wire.DatasetList.page([dataset_object(d) for d in page.items], has_more=page.has_more)


@datasets_router.get("/{dataset_id}", response_model=wire.DatasetObject)
def retrieve_dataset(dataset_id: str, runtime: RuntimeDep, tenant: TenantDep) -> wire.DatasetObject:
    return dataset_object(training.get_dataset(runtime.db, tenant, dataset_id))


@datasets_router.delete("/{dataset_id}", response_model=wire.DeletedObject)
def delete_dataset(dataset_id: str, runtime: RuntimeDep, tenant: TenantDep) -> wire.DeletedObject:
    """Delete the dataset; its examples stay."""
    training.delete_dataset(runtime.db, tenant, dataset_id)
    return wire.DeletedObject(id=dataset_id, object="dataset.deleted", deleted=True)


@datasets_router.get("/{dataset_id}/examples", response_model=wire.TrainingExampleList)
def list_dataset_examples(
    dataset_id: str,
    runtime: RuntimeDep,
    tenant: TenantDep,
    limit: Limit = 20,
    order: Order = "asc",
    after: str | None = None,
    before: str | None = None,
) -> wire.TrainingExampleList:
    page = training.dataset_examples(runtime.db, tenant, dataset_id, PageRequest(limit, order, after, before))
    return wire.TrainingExampleList.page([example_object(e) for e in page.items], has_more=page.has_more)


@datasets_router.post("/{dataset_id}/examples", response_model=wire.DatasetObject)
def add_dataset_examples(
    dataset_id: str, body: wire.AddExamplesRequest, runtime: RuntimeDep, tenant: TenantDep
) -> wire.DatasetObject:
    """Add approved examples; adding one twice changes nothing."""
    return dataset_object(training.add_examples(runtime.db, tenant, dataset_id, body.example_ids))


@datasets_router.delete("/{dataset_id}/examples/{example_id}", response_model=wire.DatasetObject)
def remove_dataset_example(
    dataset_id: str, example_id: str, runtime: RuntimeDep, tenant: TenantDep
) -> wire.DatasetObject:
    return dataset_object(training.remove_example(runtime.db, tenant, dataset_id, example_id))


@datasets_router.get(
    "/{dataset_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/jsonl": {}}, "description": "one JSON record per line"}},
)
def export_dataset(
    dataset_id: str,
    runtime: RuntimeDep,
    tenant: TenantDep,
    format: Literal["chat", "triplets"] = "chat",  # noqa: A002 - the parameter's public name
    scrub: bool = False,
) -> StreamingResponse:
    """The dataset's approved examples as JSONL: `chat` (OpenAI fine-tuning) or `triplets` (query, positive,
    hard negatives); exact duplicates removed; `scrub` replaces e-mail addresses and phone numbers."""
    records = training.export(runtime.db, tenant, dataset_id, format, scrub=scrub)
    filename = f"{dataset_id}.{format}.jsonl"
    return StreamingResponse(
        _lines(records),
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _lines(records: Iterator[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False) + "\n"
