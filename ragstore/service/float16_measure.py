"""The float16 report's measures: table and index sizes, and recall@k against an exact search of float32 values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ragstore.store import float16 as store
from ragstore.store.db import Database


@dataclass(frozen=True)
class Measure:
    """One side of the report: sizes, and recall@k against an exact search of the float32 values."""

    column_type: str
    table_bytes: int
    index_bytes: int
    indexes: tuple[str, ...]
    recall_index: float | None  # the index's top k (searched as ragstore searches); None: no index
    recall_exact: float  # an exact search of the column itself (1.0 for float32)


def sample(db: Database, table: store.Table, column: str, n: int) -> list[np.ndarray]:
    """n stored vectors of the column to search with (the same choice every time)."""
    with db.connection() as conn:
        return store.sample(conn, table, column, n)


def family(indexes: list[store.Index]) -> str:
    """The distance the indexes serve (cosine, l2, ip, l1); cosine without an index."""
    return indexes[0].family if indexes else "cosine"


def exact(
    db: Database, table: store.Table, truth: store.Column, family: str, samples: list[np.ndarray], k: int
) -> list[list[float]]:
    """The float32 distances of each sample's exact top k: the yardstick of both sides of the report."""
    with db.connection() as conn:
        return [store.nearest(conn, table, truth, truth.name, family, q, k, exact=True) for q in samples]


def measure(
    db: Database,
    table: store.Table,
    column: store.Column,
    truth: store.Column,
    indexes: list[store.Index],
    samples: list[np.ndarray],
    best: list[list[float]],
) -> Measure:
    """Sizes, and recall@k of the column's index and of an exact search of the column, against `best`, the exact
    top k by `truth` (the float32 values)."""
    k = max((len(b) for b in best), default=0)
    with db.connection() as conn:
        table_bytes, index_bytes = store.sizes(conn, table, indexes)

        def found(exact: bool) -> list[list[float]]:
            return [store.nearest(conn, table, column, truth.name, family(indexes), q, k, exact=exact) for q in samples]

        return Measure(
            column.type_text, table_bytes, index_bytes, tuple(i.name for i in indexes),
            recall(best, found(False)) if indexes else None, recall(best, found(True)),
        )  # fmt: skip


def recall(best: list[list[float]], found: list[list[float]]) -> float:
    """The share of the exact top-k places that the found lists fill with a row as near (by float32 distance):
    rows tied at the k-th place count, whichever of them came back."""
    hits = total = 0
    for exact, got in zip(best, found, strict=True):
        if exact:
            bound = exact[-1] + 1e-9 * max(1.0, abs(exact[-1]))
            hits += min(len(exact), sum(1 for d in got if d is not None and d <= bound))
            total += len(exact)
    return hits / total if total else 1.0
