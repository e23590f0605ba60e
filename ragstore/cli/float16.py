"""`ragstore float16 convert|rollback|status|finalize`: vector embeddings to halfvec online, with a way back."""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ragstore.cli import context, progress
from ragstore.cli.context import DataDir, Verbose

if TYPE_CHECKING:
    from ragstore.config import Settings
    from ragstore.service import Database
    from ragstore.service.float16 import Options, Report
    from ragstore.service.float16_measure import Measure

app = typer.Typer()
float16_app = typer.Typer(
    help="Convert vector(N) embeddings to halfvec(N) online, and back.",
    no_args_is_help=True,
    epilog="Example: ragstore float16 convert --table documents --column embedding --database-url postgresql://...",
)
app.add_typer(float16_app, name="float16")

Table = Annotated[str, typer.Option(help="the table, or schema.table (default: ragstore's chunks)")]
Column = Annotated[str, typer.Option(help="the vector column")]
DatabaseUrl = Annotated[
    str | None, typer.Option(help="another database than ragstore's own (RAGSTORE_DATABASE_URL)", show_default=False)
]
Queries = Annotated[int, typer.Option(help="stored vectors searched for the recall report")]
BatchSize = Annotated[int, typer.Option(help="rows copied per transaction")]
LockTimeout = Annotated[int, typer.Option(metavar="MS", help="wait for a lock this long (ms), then retry")]
WorkMem = Annotated[
    str | None,
    typer.Option(
        metavar="SIZE", help="memory for the index builds, e.g. 1GB (default: the server's)", show_default=False
    ),
]
JsonFile = Annotated[Path | None, typer.Option("--json", metavar="FILE", help="also write the report here")]


@dataclass(frozen=True)
class _Work:
    """The options of the commands that copy rows and build indexes."""

    queries: int
    batch_size: int
    lock_timeout: int
    maintenance_work_mem: str | None

    def options(self, bars: _Bars) -> Options:
        from ragstore.service.float16 import Options

        return Options(
            self.queries,
            batch_size=self.batch_size,
            lock_timeout_ms=self.lock_timeout,
            progress=bars.update,
            maintenance_work_mem=self.maintenance_work_mem,
        )


@float16_app.command()
def convert(
    table: Table = "chunks",
    column: Column = "embedding",
    database_url: DatabaseUrl = None,
    queries: Queries = 50,
    batch_size: BatchSize = 1000,
    lock_timeout: LockTimeout = 2000,
    maintenance_work_mem: WorkMem = None,
    json_file: JsonFile = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """To halfvec, keeping the float32 values as a backup."""
    from ragstore.service import float16

    work = _Work(queries, batch_size, lock_timeout, maintenance_work_mem)
    settings = context.settings(data_dir, verbose)
    with _database(settings, database_url) as db, _Bars() as bars:
        report = float16.convert(db, table, column, work.options(bars))
    _print_report(report)
    _write_json(json_file, report)
    return 0


@float16_app.command()
def rollback(
    table: Table = "chunks",
    column: Column = "embedding",
    database_url: DatabaseUrl = None,
    queries: Queries = 50,
    batch_size: BatchSize = 1000,
    lock_timeout: LockTimeout = 2000,
    maintenance_work_mem: WorkMem = None,
    json_file: JsonFile = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Back to the float32 values (or abandon a conversion)."""
    from ragstore.service import float16

    work = _Work(queries, batch_size, lock_timeout, maintenance_work_mem)
    settings = context.settings(data_dir, verbose)
    with _database(settings, database_url) as db, _Bars() as bars:
        report = float16.rollback(db, table, column, work.options(bars))
    if report.operation == "abandon":
        print(
            f"{report.table}.{report.column}: the unfinished conversion was abandoned; the column stays "
            f"{report.after.column_type}"
        )
    else:
        _print_report(report)
    _write_json(json_file, report)
    return 0


@float16_app.command()
def status(
    table: Table = "chunks",
    column: Column = "embedding",
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """The column's type, backup and progress."""
    from ragstore.service import float16

    with _database(context.settings(data_dir, verbose), database_url) as db:
        found = float16.status(db, table, column)
    print(f"{found.table}.{found.column}  {found.type_text}  {found.state}")
    if found.state == "converting":
        print(f"copied     {found.copied:,} of {found.rows:,} rows to halfvec (run convert again to finish)")
    if found.backup:
        print(f"backup     {found.backup} ({found.copied:,} of {found.rows:,} rows)")
    print(f"indexes    {', '.join(found.indexes) or '-'}")
    if found.building:
        print(f"building   {', '.join(found.building)} (run the same command again to finish)")
    return 0


@float16_app.command()
def finalize(
    table: Table = "chunks",
    column: Column = "embedding",
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    verbose: Verbose = False,
) -> int:
    """Drop the float32 backup (no way back)."""
    from ragstore.service import float16

    with _database(context.settings(data_dir, verbose), database_url) as db:
        dropped = float16.finalize(db, table, column)
    print(f"dropped {dropped}: {table}.{column} stays halfvec, with no way back")
    return 0


def _database(settings: Settings, database_url: str | None) -> closing[Database]:
    """The database as it is: no migrations applied, since the table may not be ragstore's."""
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return context.database(settings, migrate=False)


class _Bars:
    """A progress bar for the stage under way (copy, then index), shown on a terminal only."""

    def __init__(self) -> None:
        self.stage = ""
        self.shown: progress.Bar | None = None

    def update(self, stage: str, done: int, total: int) -> None:
        if self.shown is None or stage != self.stage:
            self.close()  # one live bar at a time: the stages follow each other
            self.stage = stage
            self.shown = progress.bar(total=total, desc=stage, unit="row" if stage == "copy" else "index")
        self.shown.total = total
        self.shown.update(done - self.shown.n)

    def close(self) -> None:
        if self.shown is not None:
            self.shown.close()
            self.shown = None

    def __enter__(self) -> _Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _print_report(report: Report) -> None:
    before, after = report.before, report.after
    backup = f"; float32 values kept in {report.backup}" if report.backup else ""
    print(f"{report.table}.{report.column}: {before.column_type} -> {after.column_type}{backup}")
    print(f"{'':<22}{'before':>16}{'after':>16}")
    rows = [
        ("column type", before.column_type, after.column_type),
        ("table bytes", f"{before.table_bytes:,}", f"{after.table_bytes:,}"),
        ("index bytes", f"{before.index_bytes:,}", f"{after.index_bytes:,}"),
        (f"recall@{report.k}, index", _ratio(before.recall_index), _ratio(after.recall_index)),
        (f"recall@{report.k}, exact", _ratio(before.recall_exact), _ratio(after.recall_exact)),
    ]
    for name, left, right in rows:
        print(f"{name:<22}{left:>16}{right:>16}")
    print(
        f"indexes: {_names(before)} -> {_names(after)}; recall against an exact float32 search of {report.queries} "
        f"stored vectors, hnsw.ef_search {report.ef_search}"
    )
    rate = report.rows_copied / report.copy_seconds if report.copy_seconds else 0
    print(
        f"copied {report.rows_copied:,} rows in {report.copy_seconds:.1f} s ({rate:,.0f} rows/s); indexes built in "
        f"{report.index_seconds:.1f} s; the swap held its lock {report.swap_lock_ms:.1f} ms "
        f"(after waiting {report.lock_wait_ms:.1f} ms)"
    )


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _names(measure: Measure) -> str:
    return ", ".join(measure.indexes) or "no index"


def _write_json(path: Path | None, report: Report) -> None:
    if path is not None:
        path.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
