"""Online float16: a vector column becomes halfvec while searches go on, and its float32 values stay as a way back.

convert   1. a halfvec column `<column>_float16` is added, with a trigger that makes it follow the column on every write
          2. the existing rows are copied in batches, each its own short transaction (re-running skips copied rows)
          3. the column's hnsw/ivfflat indexes are built again on it with the halfvec operator class, CONCURRENTLY
             (on a partitioned table: on each partition, then attached to an index made ON ONLY the parent)
          4. one short transaction swaps the names: the column becomes `<column>_float32`, the backup (its index
             dropped; the trigger now keeps it for rows written later), the halfvec column and its indexes take the
             column's and the indexes' names
rollback  the same way back: float32 indexes built concurrently on the backup, one short swap, the halfvec column
          dropped; the float32 values are the untouched original ones. Before step 4 it abandons the conversion.
finalize  drops the backup (and the trigger).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from ragstore.errors import Conflict, InvalidRequest, NotFound
from ragstore.service import float16_measure as measuring
from ragstore.store import float16 as store
from ragstore.store.chunks import EF_SEARCH
from ragstore.store.db import Connection, Database

HALF_SUFFIX, BACKUP_SUFFIX = "_float16", "_float32"
# Temporary names of indexes being built, until the swap gives them the names of the ones they replace.
BUILD_SUFFIX = {"halfvec": "_f16", "vector": "_f32"}
LOCK_TIMEOUT_MS, LOCK_ATTEMPTS = 2000, 30
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class Report:
    """What a convert or rollback did and measured."""

    operation: str  # convert, rollback, or abandon (a rollback before the swap)
    table: str
    column: str
    backup: str | None
    before: measuring.Measure
    after: measuring.Measure
    queries: int
    k: int
    ef_search: int
    rows_copied: int
    copy_seconds: float
    index_seconds: float
    lock_wait_ms: float
    swap_lock_ms: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Status:
    """Where a column stands: float32, converting (interrupted), converted (backup kept) or halfvec."""

    table: str
    column: str
    type_text: str
    state: str
    backup: str | None
    rows: int  # rows with a value
    copied: int | None  # converting: rows copied to halfvec; converted: rows with a float32 backup
    indexes: tuple[str, ...]
    building: tuple[str, ...]  # indexes on the other column, built so far


@dataclass(frozen=True)
class _Target:
    table: store.Table
    column: store.Column
    half: store.Column | None
    backup: store.Column | None

    @property
    def label(self) -> str:
        return f"{self.table.name}.{self.column.name}"

    @property
    def state(self) -> str:
        if self.column.type == "vector":
            return "converting" if self.half else "float32"
        return "converted" if self.backup else "halfvec"

    @property
    def halfvec(self) -> store.Column:
        """The halfvec column a conversion fills (state converting)."""
        assert self.half is not None, f"{self.label} is {self.state}: it has no halfvec column being filled"
        return self.half

    @property
    def backup_name(self) -> str | None:
        return self.backup.name if self.backup else None

    @property
    def float32(self) -> store.Column:
        """The float32 backup of a converted column (state converted)."""
        assert self.backup is not None, f"{self.label} is {self.state}: it has no float32 backup"
        return self.backup

    def names(self) -> dict[str, str]:
        column = self.column.name
        return {
            "trigger": f"float16_sync_{column}"[:63],
            "function": f"float16_sync_{self.table.name}_{column}"[:63],
            "constraint": f"float16_not_null_{column}"[:63],
        }


@dataclass(frozen=True)
class Options:
    """How a convert or rollback works: its report's sample, batch size, lock timeout and progress callback."""

    queries: int = 50
    k: int = 10
    batch_size: int = 1000
    lock_timeout_ms: int = LOCK_TIMEOUT_MS
    progress: Progress | None = None
    maintenance_work_mem: str | None = None  # for the index builds, e.g. 1GB; None: the server's setting


def convert(db: Database, table: str = "chunks", column: str = "embedding", options: Options = Options()) -> Report:
    """Convert a vector column to halfvec online, keeping its float32 values as `<column>_float32`; resumable."""
    with _operation(db, table, column) as (conn, target):
        _check_convertible(conn, target)
        if target.half is None:
            _prepare(conn, target, options.lock_timeout_ms)
            target = _open(conn, table, column)
        return _move(db, conn, target, "convert", target.column, target.halfvec, _swap_in, options)


def rollback(db: Database, table: str = "chunks", column: str = "embedding", options: Options = Options()) -> Report:
    """Restore the float32 column from its backup, online and resumable; before the swap, abandon the conversion."""
    with _operation(db, table, column) as (conn, target):
        if target.state == "converting":
            return _abandon(db, conn, target, options)
        if target.state != "converted":
            raise NotFound(_no_backup(target))
        return _move(db, conn, target, "rollback", target.float32, target.float32, _swap_back, options)


def finalize(db: Database, table: str = "chunks", column: str = "embedding") -> str:
    """Drop the float32 backup of a converted column (no way back after this); the dropped column's name."""
    with _operation(db, table, column) as (conn, target):
        if target.state != "converted":
            raise NotFound(_no_backup(target))

        def drop() -> None:
            _drop_sync(conn, target)
            store.execute(conn, "float16_drop_column", target.table, column=target.float32.name)
            store.execute(conn, "float16_drop_check", target.table, constraint=target.names()["constraint"])

        store.locked(conn, target.table, drop, LOCK_TIMEOUT_MS, LOCK_ATTEMPTS)
        return target.float32.name


def status(db: Database, table: str = "chunks", column: str = "embedding") -> Status:
    """The column's type, its backup, and how far an interrupted conversion or rollback got."""
    with db.connection() as conn:
        target = _open(conn, table, column)
        other = target.half or target.backup
        rows, copied = store.fill_counts(conn, target.table, column, other.name if other else column)
        building = store.vector_indexes(conn, target.table, other) if other else []
        return Status(
            target.table.name, column, target.column.type_text, target.state, target.backup_name,
            rows, copied if other else None, tuple(i.name for i in _indexes(conn, target)),
            tuple(i.name for i in building),
        )  # fmt: skip


@contextmanager
def _operation(db: Database, table: str, column: str) -> Iterator[tuple[Connection, _Target]]:
    """A connection of its own holding the operation's advisory lock, and the column as it stands."""
    with db.dedicated() as conn, store.exclusive(conn, f"{table}.{column}"):
        yield conn, _open(conn, table, column)


def _move(
    db: Database,
    conn: Connection,
    target: _Target,
    operation: str,
    truth: store.Column,
    into: store.Column,
    swap: Callable[[Connection, _Target, list[store.Index], list[tuple[str, str, str]]], None],
    options: Options,
) -> Report:
    """Copy the column into `into`, build its indexes again there, swap in one short lock; measured before and
    after against `truth`, the float32 values."""
    indexes = _indexes(conn, target)
    samples = measuring.sample(db, target.table, truth.name, options.queries)
    best = measuring.exact(db, target.table, truth, measuring.family(indexes), samples, options.k)
    before = measuring.measure(db, target.table, target.column, truth, indexes, samples, best)
    copied, copy_s = _copy(conn, target.table, target.column.name, into.name, options)
    if target.column.not_null:
        _not_null_check(conn, target, into.name, options.lock_timeout_ms)
    if copied:
        store.execute(conn, "float16_vacuum", target.table)
    if options.maintenance_work_mem:
        store.set_maintenance_work_mem(conn, options.maintenance_work_mem)
    started = time.perf_counter()
    renames = _build(conn, target.table, indexes, into, options.progress)
    index_s = time.perf_counter() - started
    wait, held = store.locked(
        conn, target.table, lambda: swap(conn, target, indexes, renames), options.lock_timeout_ms, LOCK_ATTEMPTS
    )
    done = _open(conn, f"{target.table.schema}.{target.table.name}", target.column.name)
    # The float32 values are the same after the swap, under another name: the same exact top k.
    after = measuring.measure(
        db, done.table, done.column, done.backup or done.column, _indexes(conn, done), samples, best
    )
    return Report(
        operation, target.table.name, target.column.name, done.backup_name, before, after, len(samples),
        options.k, max(EF_SEARCH, options.k), copied, copy_s, index_s, wait * 1000, held * 1000,
    )  # fmt: skip


def _open(conn: Connection, table: str, column: str) -> _Target:
    found = store.find_table(conn, table)
    if found is None:
        raise NotFound(f"There is no table {table} in this database.")
    live = store.find_column(conn, found, column)
    if live is None:
        raise NotFound(f"Table {table} has no column {column}.")
    if live.type not in store.TYPES:
        raise InvalidRequest(f"{table}.{column} is {live.type_text}, not a pgvector vector column.")
    half = store.find_column(conn, found, column + HALF_SUFFIX)
    backup = store.find_column(conn, found, column + BACKUP_SUFFIX)
    for other, expected in ((half, "halfvec"), (backup, "vector")):
        if other is not None and other.type != expected:
            raise InvalidRequest(f"{table}.{other.name} is {other.type_text}, not {expected}: rename or drop it.")
    return _Target(found, live, half, backup)


def _check_convertible(conn: Connection, target: _Target) -> None:
    label = target.label
    if target.state in ("converted", "halfvec"):
        hint = (
            f" Its float32 values are kept in {target.backup.name}: `ragstore float16 rollback` goes back to them."
            if target.backup
            else ""
        )
        raise InvalidRequest(f"{label} is already {target.column.type_text}: there is nothing to convert.{hint}")
    if target.backup is not None:
        raise InvalidRequest(f"{target.table.name} already has a column {target.backup.name}; rename or drop it.")
    if len(target.column.name) + len(BACKUP_SUFFIX) > 63:
        raise InvalidRequest(f"The column name {target.column.name} is too long to add {BACKUP_SUFFIX} to it.")
    if not target.table.key:
        raise InvalidRequest(f"{target.table.name} has no primary key: rows are copied in batches by their key.")
    dependents = store.column_dependents(conn, target.table, target.column)
    if dependents:
        raise InvalidRequest(
            f"{label} is used by {', '.join(dependents)}, which would follow it to the backup: drop them first and "
            "create them again after the conversion."
        )
    for index in store.vector_indexes(conn, target.table, target.column):
        if index.partial or index.family not in store.OPERATORS:
            raise InvalidRequest(
                f"The index {index.name} ({index.opclass}, partial: {index.partial}) is not supported."
            )


def _no_backup(target: _Target) -> str:
    if target.state == "float32":
        return f"{target.label} is {target.column.type_text} and was never converted: it has no float32 backup."
    return (
        f"There is no float32 backup of {target.label} ({target.column.name}{BACKUP_SUFFIX}): it was not converted "
        "by ragstore, or `ragstore float16 finalize` dropped the backup."
    )


def _indexes(conn: Connection, target: _Target) -> list[store.Index]:
    return store.vector_indexes(conn, target.table, target.column)


def _prepare(conn: Connection, target: _Target, lock_timeout_ms: int) -> None:
    """Add the halfvec column and the trigger that keeps it following the column (one short lock)."""
    names, half = target.names(), target.column.name + HALF_SUFFIX

    def work() -> None:
        store.add_column(conn, target.table, half, target.column, "halfvec")
        store.create_sync(conn, target.table, names["function"], target.column.name, half)
        store.create_sync_trigger(conn, target.table, names["trigger"], names["function"])

    store.locked(conn, target.table, work, lock_timeout_ms, LOCK_ATTEMPTS)


def _not_null_check(conn: Connection, target: _Target, column: str, lock_timeout_ms: int) -> None:
    """A validated CHECK (column IS NOT NULL), so that SET NOT NULL in the swap scans nothing."""
    constraint = target.names()["constraint"]
    if not store.check_exists(conn, target.table, constraint):

        def add() -> None:
            store.execute(conn, "float16_add_not_null_check", target.table, constraint=constraint, column=column)

        store.locked(conn, target.table, add, lock_timeout_ms, LOCK_ATTEMPTS)
    store.execute(conn, "float16_validate_check", target.table, constraint=constraint)


def _copy(conn: Connection, table: store.Table, source: str, target: str, options: Options) -> tuple[int, float]:
    """Copy source into target where target is missing, batch by batch; (rows written, seconds)."""
    total, done = store.fill_counts(conn, table, source, target)
    _report(options.progress, "copy", done, total)
    started, copied, after = time.perf_counter(), 0, None
    while True:
        written, after = store.fill_batch(conn, table, source, target, after, options.batch_size)
        if after is None:
            return copied, time.perf_counter() - started
        copied += written
        _report(options.progress, "copy", min(done + copied, total), total)


def _build(
    conn: Connection, table: store.Table, indexes: list[store.Index], into: store.Column, progress: Progress | None
) -> list[tuple[str, str, str]]:
    """Build each index again on `into` with its type's operator class; [(schema, built name, final name)]."""
    suffix = BUILD_SUFFIX[into.type]
    trees = [(index, store.index_tree(conn, index)) for index in indexes]
    leaves, built, renames = sum(n.leaf for _, tree in trees for n in tree), 0, []
    _report(progress, "index", 0, leaves)
    for index, tree in trees:
        for node in tree:
            store.build_index(
                conn, node, _temporary(node.name, suffix), into.name, index, f"{into.type}_{index.family}_ops"
            )
            renames.append((node.table_schema, _temporary(node.name, suffix), node.name))
            built += node.leaf
            _report(progress, "index", built, leaves)
        by_name = {node.name: node for node in tree}
        for node in sorted(tree, key=lambda n: -n.level):
            if node.parent is not None:
                parent = by_name[node.parent]
                store.attach_index(
                    conn, parent.table_schema, _temporary(parent.name, suffix),
                    node.table_schema, _temporary(node.name, suffix),
                )  # fmt: skip
        if store.index_state(conn, tree[0].table_schema, _temporary(tree[0].name, suffix)) != (True, None):
            raise Conflict(f"The new index {_temporary(tree[0].name, suffix)} is not valid; run the command again.")
    return renames


def _swap_in(conn: Connection, target: _Target, old: list[store.Index], renames: list[tuple[str, str, str]]) -> None:
    """Inside the lock: the halfvec column takes the column's name and indexes, the float32 one becomes the backup."""
    table, column, names = target.table, target.column.name, target.names()
    if target.column.not_null:
        store.execute(conn, "float16_drop_not_null", table, column=column)
    for index in old:
        store.drop_index(conn, table.schema, index.name)
    store.execute(conn, "float16_rename_column", table, column=column, name=column + BACKUP_SUFFIX)
    store.execute(conn, "float16_rename_column", table, column=column + HALF_SUFFIX, name=column)
    if target.column.not_null:
        store.execute(conn, "float16_set_not_null", table, column=column)
        store.execute(conn, "float16_drop_check", table, constraint=names["constraint"])
    for schema, built, final in renames:
        store.rename_index(conn, schema, built, final)
    store.create_sync(conn, table, names["function"], column, column + BACKUP_SUFFIX)
    comment = "ragstore float16: the float32 values before the conversion (`ragstore float16 rollback|finalize`)"
    store.comment_column(conn, table, column + BACKUP_SUFFIX, comment)


def _swap_back(conn: Connection, target: _Target, old: list[store.Index], renames: list[tuple[str, str, str]]) -> None:
    """Inside the lock: the halfvec column goes (with its indexes), the backup takes its name and indexes."""
    table, column, names = target.table, target.column.name, target.names()
    _drop_sync(conn, target)
    store.execute(conn, "float16_drop_column", table, column=column)
    store.execute(conn, "float16_rename_column", table, column=target.float32.name, name=column)
    if target.column.not_null:
        store.execute(conn, "float16_set_not_null", table, column=column)
        store.execute(conn, "float16_drop_check", table, constraint=names["constraint"])
    for schema, built, final in renames:
        store.rename_index(conn, schema, built, final)
    store.comment_column(conn, table, column, None)


def _abandon(db: Database, conn: Connection, target: _Target, options: Options) -> Report:
    """Rollback before the swap: drop the halfvec column and the trigger; the float32 column was never touched."""

    def drop() -> None:
        _drop_sync(conn, target)
        store.execute(conn, "float16_drop_column", target.table, column=target.halfvec.name)

    indexes = _indexes(conn, target)
    samples = measuring.sample(db, target.table, target.column.name, options.queries)
    best = measuring.exact(db, target.table, target.column, measuring.family(indexes), samples, options.k)
    measure = measuring.measure(db, target.table, target.column, target.column, indexes, samples, best)
    wait, held = store.locked(conn, target.table, drop, options.lock_timeout_ms, LOCK_ATTEMPTS)
    return Report(
        "abandon", target.table.name, target.column.name, None, measure, measure, len(samples), options.k,
        max(EF_SEARCH, options.k), 0, 0.0, 0.0, wait * 1000, held * 1000,
    )  # fmt: skip


def _drop_sync(conn: Connection, target: _Target) -> None:
    names = target.names()
    store.drop_sync(conn, target.table, names["trigger"], names["function"])


def _temporary(name: str, suffix: str) -> str:
    """name + suffix within PostgreSQL's 63 bytes."""
    return name.encode()[: 63 - len(suffix)].decode(errors="ignore") + suffix


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
