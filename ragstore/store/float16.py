"""Online float16: the catalog look-ups, DDL and batched copies behind `ragstore float16` (SQL in sql/float16.sql).

Every table, column, index and function name reaches SQL through psycopg.sql.Identifier; the few keywords that vary
(index method, operator, vector type) come from fixed lists, never from input.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from ragstore.errors import Conflict
from ragstore.store.chunks import EF_SEARCH, MAX_SCAN_TUPLES
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one

METHODS = ("hnsw", "ivfflat")
TYPES = ("vector", "halfvec")
# Distance operator of each operator-class family (vector_cosine_ops and halfvec_cosine_ops alike).
OPERATORS = {"cosine": "<=>", "l2": "<->", "ip": "<#>", "l1": "<+>"}
IVFFLAT_PROBES = 10


@dataclass(frozen=True)
class Table:
    """A plain or partitioned table, with its primary-key columns."""

    oid: int
    schema: str
    name: str
    partitioned: bool
    key: tuple[str, ...]

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)


@dataclass(frozen=True)
class Column:
    """A column's number, type (vector, halfvec, ...), dimension and nullability."""

    name: str
    attnum: int
    type: str
    type_schema: str
    type_text: str
    dimensions: int
    not_null: bool


@dataclass(frozen=True)
class Index:
    """A single-column hnsw or ivfflat index: method, operator class and storage options (m=16, lists=100...)."""

    oid: int
    name: str
    method: str
    opclass: str
    opclass_schema: str
    options: tuple[str, ...]
    valid: bool
    partial: bool

    @property
    def family(self) -> str:
        """cosine, l2, ip or l1."""
        return self.opclass.removeprefix("vector_").removeprefix("halfvec_").removesuffix("_ops")


@dataclass(frozen=True)
class IndexNode:
    """One index of a partitioned index's tree (or a plain index alone): its table and its parent index."""

    level: int
    leaf: bool
    name: str
    parent: str | None
    table_schema: str
    table_name: str


def find_table(conn: Connection, name: str) -> Table | None:
    """The table named `name` or `schema.name` (as stored: no case folding), with its primary key."""
    schema, _, table = name.rpartition(".")
    row = conn.execute(QUERIES["float16_find_table"], {"table": table, "schema": schema or None}).fetchone()
    if row is None:
        return None
    key = [r["name"] for r in conn.execute(QUERIES["float16_primary_key"], {"table": row["oid"]}).fetchall()]
    return Table(row["oid"], row["schema"], row["name"], row["partitioned"], tuple(key))


def find_column(conn: Connection, table: Table, name: str) -> Column | None:
    """The column, or None."""
    row = conn.execute(QUERIES["float16_find_column"], {"table": table.oid, "column": name}).fetchone()
    return Column(name, **row) if row else None


def column_dependents(conn: Connection, table: Table, column: Column) -> list[str]:
    """Views, policies and functions that use the column by its number."""
    params = {"table": table.oid, "attnum": column.attnum}
    return [r["name"] for r in conn.execute(QUERIES["float16_column_dependents"], params).fetchall()]


def vector_indexes(conn: Connection, table: Table, column: Column) -> list[Index]:
    """The table's own hnsw and ivfflat indexes on the column."""
    rows = conn.execute(QUERIES["float16_vector_indexes"], {"table": table.oid, "attnum": column.attnum}).fetchall()
    return [Index(**{**row, "options": tuple(row["options"])}) for row in rows]


def index_tree(conn: Connection, index: Index) -> list[IndexNode]:
    """The index and every index below it, parents first."""
    return [IndexNode(**row) for row in conn.execute(QUERIES["float16_index_tree"], {"index": index.oid}).fetchall()]


def index_state(conn: Connection, schema: str, name: str) -> tuple[bool, str | None] | None:
    """(valid, the index it is attached to) of an index, or None when there is none of that name."""
    row = conn.execute(QUERIES["float16_index_state"], {"schema": schema, "name": name}).fetchone()
    return (row["valid"], row["parent"]) if row else None


def build_index(conn: Connection, node: IndexNode, name: str, column: str, index: Index, opclass: str) -> None:
    """Build `name` like `index` on node's table and column: CONCURRENTLY on a leaf (an invalid one left by an
    interrupted build is dropped first), ON ONLY on a partitioned table. Outside any transaction."""
    state = index_state(conn, node.table_schema, name)
    if state is not None and (state[0] or not node.leaf):
        return
    parts = {
        "index": sql.Identifier(name),
        "table": sql.Identifier(node.table_schema, node.table_name),
        "method": sql.SQL(_checked(index.method, METHODS)),
        "column": sql.Identifier(column),
        "opclass": sql.Identifier(index.opclass_schema, opclass),
        "options": _with(index.options),
    }
    if not node.leaf:
        conn.execute(sql.SQL(QUERIES["float16_create_parent_index"]).format(**parts))
        return
    if state is not None:
        drop_index(conn, node.table_schema, name, concurrently=True)
    conn.execute(sql.SQL(QUERIES["float16_create_index"]).format(**parts))


def set_maintenance_work_mem(conn: Connection, value: str) -> None:
    """The memory this session's index builds may use, e.g. 1GB."""
    conn.execute(QUERIES["float16_maintenance_work_mem"], {"value": value})


def attach_index(conn: Connection, parent_schema: str, parent: str, schema: str, name: str) -> None:
    """Attach a partition's index to its parent's (once)."""
    state = index_state(conn, schema, name)
    if state is not None and state[1] != parent:
        parts = {"parent": sql.Identifier(parent_schema, parent), "index": sql.Identifier(schema, name)}
        conn.execute(sql.SQL(QUERIES["float16_attach_index"]).format(**parts))


def drop_index(conn: Connection, schema: str, name: str, *, concurrently: bool = False) -> None:
    query = QUERIES["float16_drop_index_concurrently" if concurrently else "float16_drop_index"]
    conn.execute(sql.SQL(query).format(index=sql.Identifier(schema, name)))


def rename_index(conn: Connection, schema: str, name: str, new_name: str) -> None:
    parts = {"index": sql.Identifier(schema, name), "name": sql.Identifier(new_name)}
    conn.execute(sql.SQL(QUERIES["float16_rename_index"]).format(**parts))


@contextlib.contextmanager
def exclusive(conn: Connection, key: str) -> Iterator[None]:
    """Hold the float16 advisory lock of `key` (a table and column) on conn, or fail at once if another holds it."""
    if not one(conn.execute(QUERIES["float16_try_lock"], {"key": key}))["locked"]:
        raise Conflict(f"Another float16 operation is running on {key}; wait for it to finish.")
    try:
        yield
    finally:
        conn.execute(QUERIES["float16_unlock"], {"key": key})


def locked(
    conn: Connection, table: Table, work: Callable[[], None], timeout_ms: int, attempts: int
) -> tuple[float, float]:
    """Run work in one transaction holding ACCESS EXCLUSIVE on the table (and its partitions); (wait, held) seconds.

    The lock is asked for with a timeout and asked again after a pause, so that a long query ahead of it never
    leaves every other query queued behind the request."""
    for attempt in range(1, attempts + 1):
        asked = time.perf_counter()
        try:
            with conn.transaction():
                conn.execute(QUERIES["float16_lock_timeout"], {"timeout": f"{timeout_ms}ms"})
                conn.execute(sql.SQL(QUERIES["float16_lock_table"]).format(table=table.ident))
                got = time.perf_counter()
                work()
            return got - asked, time.perf_counter() - got
        except psycopg.errors.LockNotAvailable:
            time.sleep(min(0.1 * attempt, 2.0))
    raise Conflict(
        f"Could not lock {table.schema}.{table.name} within {timeout_ms} ms in {attempts} attempts: long "
        "transactions hold it. Retry later; the work done so far is kept."
    )


def execute(conn: Connection, query: str, table: Table | None = None, **names: str) -> None:
    """Run the named statement with `table` and the other names (columns, constraints...) as identifiers."""
    parts: dict[str, sql.Composable] = {key: sql.Identifier(value) for key, value in names.items()}
    if table is not None:
        parts["table"] = table.ident
    conn.execute(sql.SQL(QUERIES[query]).format(**parts))


def add_column(conn: Connection, table: Table, name: str, like: Column, type_name: str) -> None:
    """Add a column of like's dimension, of type vector or halfvec."""
    parts = {"table": table.ident, "column": sql.Identifier(name), "type": vector_type(like, type_name)}
    conn.execute(sql.SQL(QUERIES["float16_add_column"]).format(**parts))


def check_exists(conn: Connection, table: Table, name: str) -> bool:
    return one(conn.execute(QUERIES["float16_check_exists"], {"table": table.oid, "name": name}))["found"]


def create_sync(conn: Connection, table: Table, function: str, source: str, target: str) -> None:
    """(Re)define the trigger function that keeps target following source on every write."""
    body = sql.SQL(QUERIES["float16_sync_body"]).format(target=sql.Identifier(target), source=sql.Identifier(source))
    parts = {"function": sql.Identifier(table.schema, function), "body": sql.Literal(body.as_string(conn))}
    conn.execute(sql.SQL(QUERIES["float16_create_sync_function"]).format(**parts))


def create_sync_trigger(conn: Connection, table: Table, trigger: str, function: str) -> None:
    parts = {
        "table": table.ident,
        "trigger": sql.Identifier(trigger),
        "function": sql.Identifier(table.schema, function),
    }
    conn.execute(sql.SQL(QUERIES["float16_create_sync_trigger"]).format(**parts))


def drop_sync(conn: Connection, table: Table, trigger: str, function: str) -> None:
    """Drop the trigger and its function."""
    execute(conn, "float16_drop_sync_trigger", table, trigger=trigger)
    parts = {"function": sql.Identifier(table.schema, function)}
    conn.execute(sql.SQL(QUERIES["float16_drop_sync_function"]).format(**parts))


def comment_column(conn: Connection, table: Table, column: str, comment: str | None) -> None:
    parts = {"table": table.ident, "column": sql.Identifier(column), "comment": sql.Literal(comment)}
    conn.execute(sql.SQL(QUERIES["float16_comment_column"]).format(**parts))


def vector_type(column: Column, type_name: str) -> sql.Composable:
    """The column's vector type family as `type_name` (vector or halfvec), schema-qualified, same dimension."""
    name = sql.Identifier(column.type_schema, _checked(type_name, TYPES))
    return sql.SQL("{}({})").format(name, sql.Literal(column.dimensions)) if column.dimensions > 0 else name


def fill_batch(
    conn: Connection, table: Table, source: str, target: str, after: Sequence[Any] | None, batch_size: int
) -> tuple[int, tuple[Any, ...] | None]:
    """Copy source into target for the next batch of rows in key order; (rows written, the batch's last key), the
    key None when no rows are left."""
    keys = [sql.Identifier(name) for name in table.key]
    bound = [sql.Placeholder(f"k{i}") for i in range(len(keys))]
    query = sql.SQL(QUERIES["float16_fill_batch"]).format(
        table=table.ident,
        key=sql.SQL(", ").join(keys),
        after=sql.SQL("({}) > ({})").format(sql.SQL(", ").join(keys), sql.SQL(", ").join(bound))
        if after is not None
        else sql.SQL("TRUE"),
        target=sql.Identifier(target),
        source=sql.Identifier(source),
        table_key=sql.SQL(", ").join(sql.Identifier("t", name) for name in table.key),
        batch_key=sql.SQL(", ").join(sql.Identifier("b", name) for name in table.key),
        last_key=sql.SQL(", ").join(sql.SQL("{} AS {}").format(k, sql.Identifier(f"k{i}")) for i, k in enumerate(keys)),
        key_descending=sql.SQL(", ").join(sql.SQL("{} DESC").format(k) for k in keys),
    )
    params = {"batch_size": batch_size, **{f"k{i}": value for i, value in enumerate(after or ())}}
    row = conn.execute(query, params).fetchone()
    if row is None:
        return 0, None
    return row["filled"], tuple(row[f"k{i}"] for i in range(len(keys)))


def fill_counts(conn: Connection, table: Table, source: str, target: str) -> tuple[int, int]:
    """(rows with a source value, those whose target is set)."""
    parts = {"table": table.ident, "source": sql.Identifier(source), "target": sql.Identifier(target)}
    row = one(conn.execute(sql.SQL(QUERIES["float16_fill_counts"]).format(**parts)))
    return row["total"], row["done"]


def sizes(conn: Connection, table: Table, indexes: Sequence[Index]) -> tuple[int, int]:
    """(bytes of the table, of the indexes), every partition included."""
    row = one(conn.execute(QUERIES["float16_sizes"], {"table": table.oid, "indexes": [i.oid for i in indexes]}))
    return row["table_bytes"], row["index_bytes"]


def sample(conn: Connection, table: Table, column: str, n: int) -> list[np.ndarray]:
    """n stored vectors of the column (a fixed choice), as float32 arrays."""
    key = sql.SQL(", ").join(sql.Identifier(name) for name in table.key)
    query = sql.SQL(QUERIES["float16_sample"]).format(table=table.ident, column=sql.Identifier(column), key=key)
    return [row["embedding"].to_numpy() for row in conn.execute(query, {"n": n}).fetchall()]


def nearest(
    conn: Connection,
    table: Table,
    column: Column,
    truth: str,
    family: str,
    query: np.ndarray,
    k: int,
    *,
    exact: bool,
) -> list[float]:
    """The float32 distances (by `truth`) of the k rows nearest to query by `column`: through its index, searched
    as ragstore searches (hnsw.ef_search, iterative scan), or exactly."""
    with conn.transaction():
        if exact:
            conn.execute(QUERIES["float16_exact"])
        else:
            conn.execute(QUERIES["tune_hnsw"], {"ef_search": str(max(EF_SEARCH, k)), "max_scan": str(MAX_SCAN_TUPLES)})
            conn.execute(QUERIES["float16_tune_ivfflat"], {"probes": str(IVFFLAT_PROBES)})
        statement = sql.SQL(QUERIES["float16_nearest"]).format(
            table=table.ident,
            column=sql.Identifier(column.name),
            truth=sql.Identifier(truth),
            operator=sql.SQL(OPERATORS[family]),
            type=vector_type(column, column.type),
        )
        rows = conn.execute(statement, {"query": query, "k": k}).fetchall()
    return [row["distance"] for row in rows]


def _with(options: Sequence[str]) -> sql.Composable:
    """WITH (m = '16', ...) from an index's reloptions."""
    if not options:
        return sql.SQL("")
    pairs = [option.split("=", 1) for option in options]
    return sql.SQL("WITH ({})").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Literal(v)) for k, v in pairs)
    )


def _checked(word: str, allowed: Sequence[str]) -> str:
    if word not in allowed:
        raise ValueError(f"{word!r} is not one of {allowed}")
    return word
