"""Training examples (snapshots of rated or hand-picked exchanges) and the datasets that group them."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ragstore.models import Dataset, PageRequest, TrainingExample
from ragstore.store.conversations import passages, passages_json
from ragstore.store.pages import fetch_page
from ragstore.store.queries import QUERIES, compose
from ragstore.store.rows import Connection

_EXAMPLE = {"columns": sql.SQL(QUERIES["training_example_columns"])}
_DATASET = {"columns": sql.SQL(QUERIES["dataset_columns"])}


def insert_example(conn: Connection, tenant_id: str, example: TrainingExample) -> TrainingExample | None:
    """Store the example; None when its message already has one."""
    row = conn.execute(
        compose("insert_training_example", **_EXAMPLE),
        {
            "tenant_id": tenant_id,
            "id": example.id,
            "message_id": example.message_id,
            "conversation_id": example.conversation_id,
            "source": example.source,
            "rating": example.rating,
            "query": example.query,
            "answer": example.answer,
            "messages": Jsonb(example.messages),
            "context_used": passages_json(example.context_used),
            "unused_context": passages_json(example.unused_context),
            "vector_store_ids": list(example.vector_store_ids),
            "model": example.model,
        },
    ).fetchone()
    return _example(row) if row else None


def get_example(conn: Connection, tenant_id: str, example_id: str) -> TrainingExample | None:
    row = conn.execute(
        compose("get_training_example", **_EXAMPLE), {"tenant_id": tenant_id, "id": example_id}
    ).fetchone()
    return _example(row) if row else None


def get_examples(conn: Connection, tenant_id: str, example_ids: list[str]) -> dict[str, TrainingExample]:
    """The examples of these ids that exist, by id: one query, however many ids."""
    rows = conn.execute(
        compose("get_training_examples", **_EXAMPLE), {"tenant_id": tenant_id, "ids": example_ids}
    ).fetchall()
    return {example.id: example for example in map(_example, rows)}


def example_of_message(conn: Connection, tenant_id: str, message_id: str) -> TrainingExample | None:
    query = compose("training_example_of_message", **_EXAMPLE)
    row = conn.execute(query, {"tenant_id": tenant_id, "message_id": message_id}).fetchone()
    return _example(row) if row else None


def list_examples(
    conn: Connection, tenant_id: str, status: str | None, page: PageRequest
) -> tuple[list[TrainingExample], bool]:
    params = {"tenant_id": tenant_id, "status": status}
    rows, has_more = fetch_page(conn, "list_training_examples", params, page, None, **_EXAMPLE)
    return [_example(row) for row in rows], has_more


def set_status(conn: Connection, tenant_id: str, example_id: str, status: str) -> TrainingExample | None:
    query = compose("set_training_example_status", **_EXAMPLE)
    row = conn.execute(query, {"tenant_id": tenant_id, "id": example_id, "status": status}).fetchone()
    return _example(row) if row else None


def rerate(conn: Connection, tenant_id: str, example_id: str, rating: int, status: str) -> TrainingExample | None:
    """Give the example its answer's new rating, and the status that follows from it."""
    params = {"tenant_id": tenant_id, "id": example_id, "rating": rating, "status": status}
    row = conn.execute(compose("rerate_training_example", **_EXAMPLE), params).fetchone()
    return _example(row) if row else None


def delete_example(conn: Connection, tenant_id: str, example_id: str) -> bool:
    """Delete the example (and so take it out of every dataset)."""
    return conn.execute(QUERIES["delete_training_example"], {"tenant_id": tenant_id, "id": example_id}).rowcount > 0


def rated_without_example(conn: Connection, tenant_id: str, min_rating: int, vector_store_id: str | None) -> list[str]:
    """Ids of messages rated at least min_rating that have no training example yet."""
    params = {"tenant_id": tenant_id, "min_rating": min_rating, "vector_store_id": vector_store_id}
    return [row["message_id"] for row in conn.execute(QUERIES["rated_without_example"], params)]


def _example(row: dict[str, Any]) -> TrainingExample:
    return TrainingExample(
        **{
            **row,
            "context_used": passages(row["context_used"]),
            "unused_context": passages(row["unused_context"]),
            "vector_store_ids": tuple(row["vector_store_ids"]),
        }
    )


def insert_dataset(conn: Connection, tenant_id: str, dataset_id: str, name: str, description: str | None) -> None:
    params = {"tenant_id": tenant_id, "id": dataset_id, "name": name, "description": description}
    conn.execute(QUERIES["insert_dataset"], params)


def get_dataset(conn: Connection, tenant_id: str, dataset_id: str) -> Dataset | None:
    row = conn.execute(compose("get_dataset", **_DATASET), {"tenant_id": tenant_id, "id": dataset_id}).fetchone()
    return Dataset(**row) if row else None


def dataset_by_name(conn: Connection, tenant_id: str, name: str) -> Dataset | None:
    row = conn.execute(compose("dataset_by_name", **_DATASET), {"tenant_id": tenant_id, "name": name}).fetchone()
    return Dataset(**row) if row else None


def list_datasets(conn: Connection, tenant_id: str, page: PageRequest) -> tuple[list[Dataset], bool]:
    rows, has_more = fetch_page(conn, "list_datasets", {"tenant_id": tenant_id}, page, None, **_DATASET)
    return [Dataset(**row) for row in rows], has_more


def delete_dataset(conn: Connection, tenant_id: str, dataset_id: str) -> bool:
    return conn.execute(QUERIES["delete_dataset"], {"tenant_id": tenant_id, "id": dataset_id}).rowcount > 0


def add_examples(conn: Connection, tenant_id: str, dataset_id: str, example_ids: list[str]) -> None:
    params = [{"tenant_id": tenant_id, "dataset_id": dataset_id, "example_id": eid} for eid in example_ids]
    with conn.cursor() as cur:
        cur.executemany(QUERIES["add_dataset_example"], params)
    conn.execute(QUERIES["touch_dataset"], {"tenant_id": tenant_id, "id": dataset_id})


def remove_example(conn: Connection, tenant_id: str, dataset_id: str, example_id: str) -> bool:
    params = {"tenant_id": tenant_id, "dataset_id": dataset_id, "example_id": example_id}
    removed = conn.execute(QUERIES["remove_dataset_example"], params).rowcount > 0
    conn.execute(QUERIES["touch_dataset"], {"tenant_id": tenant_id, "id": dataset_id})
    return removed


def dataset_examples(
    conn: Connection, tenant_id: str, dataset_id: str, status: str | None, page: PageRequest
) -> tuple[list[TrainingExample], bool]:
    params = {"tenant_id": tenant_id, "dataset_id": dataset_id, "status": status}
    rows, has_more = fetch_page(conn, "dataset_examples", params, page, None, **_EXAMPLE)
    return [_example(row) for row in rows], has_more
