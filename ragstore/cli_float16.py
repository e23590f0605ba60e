"""`ragstore float16 convert|rollback|status|finalize`: vector embeddings to halfvec online, with a way back."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragstore.config import Settings

if TYPE_CHECKING:  # the database layer: imported when a command runs
    from ragstore.service.float16 import Options, Report
    from ragstore.service.float16_measure import Measure
    from ragstore.store.db import Database


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `float16 convert|rollback|status|finalize` to the `ragstore` command."""
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument("--table", default="chunks", help="the table, or schema.table (default: ragstore's chunks)")
    target.add_argument("--column", default="embedding", help="the vector column (default: embedding)")
    target.add_argument("--database-url", help="another database than ragstore's own (RAGSTORE_DATABASE_URL)")
    work = argparse.ArgumentParser(add_help=False)
    work.add_argument("--queries", type=int, default=50, help="stored vectors searched for the recall report")
    work.add_argument("--batch-size", type=int, default=1000, help="rows copied per transaction (default 1000)")
    work.add_argument("--lock-timeout", type=int, default=2000, metavar="MS", help="wait for a lock, then retry")
    work.add_argument(
        "--maintenance-work-mem", metavar="SIZE", help="memory for the index builds, e.g. 1GB (default: the server's)"
    )
    work.add_argument("--json", type=Path, metavar="FILE", help="also write the report here")

    float16 = commands.add_parser(
        "float16", help="convert vector(N) embeddings to halfvec(N) online, and back"
    ).add_subparsers(required=True, metavar="ACTION")
    convert = float16.add_parser(
        "convert", parents=[common, target, work], help="to halfvec, keeping the float32 values as a backup"
    )
    convert.set_defaults(command=cmd_convert)
    rollback = float16.add_parser(
        "rollback", parents=[common, target, work], help="back to the float32 values (or abandon a conversion)"
    )
    rollback.set_defaults(command=cmd_rollback)
    status = float16.add_parser("status", parents=[common, target], help="the column's type, backup and progress")
    status.set_defaults(command=cmd_status)
    finalize = float16.add_parser("finalize", parents=[common, target], help="drop the float32 backup (no way back)")
    finalize.set_defaults(command=cmd_finalize)


def cmd_convert(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import float16

    with _database(settings, args) as db, _Bars() as bars:
        report = float16.convert(db, args.table, args.column, _options(args, bars))
    _print_report(report)
    _write_json(args.json, report)
    return 0


def cmd_rollback(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import float16

    with _database(settings, args) as db, _Bars() as bars:
        report = float16.rollback(db, args.table, args.column, _options(args, bars))
    if report.operation == "abandon":
        print(
            f"{report.table}.{report.column}: the unfinished conversion was abandoned; the column stays "
            f"{report.after.column_type}"
        )
    else:
        _print_report(report)
    _write_json(args.json, report)
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import float16

    with _database(settings, args) as db:
        found = float16.status(db, args.table, args.column)
    print(f"{found.table}.{found.column}  {found.type_text}  {found.state}")
    if found.state == "converting":
        print(f"copied     {found.copied:,} of {found.rows:,} rows to halfvec (run convert again to finish)")
    if found.backup:
        print(f"backup     {found.backup} ({found.copied:,} of {found.rows:,} rows)")
    print(f"indexes    {', '.join(found.indexes) or '-'}")
    if found.building:
        print(f"building   {', '.join(found.building)} (run the same command again to finish)")
    return 0


def cmd_finalize(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.service import float16

    with _database(settings, args) as db:
        dropped = float16.finalize(db, args.table, args.column)
    print(f"dropped {dropped}: {args.table}.{args.column} stays halfvec, with no way back")
    return 0


def _options(args: argparse.Namespace, bars: _Bars) -> Options:
    from ragstore.service.float16 import Options

    return Options(
        args.queries,
        batch_size=args.batch_size,
        lock_timeout_ms=args.lock_timeout,
        progress=bars.update,
        maintenance_work_mem=args.maintenance_work_mem,
    )


@contextmanager
def _database(settings: Settings, args: argparse.Namespace) -> Iterator[Database]:
    """The database as it is: no migrations applied, since the table may not be ragstore's."""
    from ragstore.store.db import open_database

    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    db = open_database(settings, apply_migrations=False)
    try:
        yield db
    finally:
        db.close()


class _Bars:
    """A progress bar per stage (copy, index), shown on a terminal only."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def update(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        unit = "row" if stage == "copy" else "index"
        bar = self.bars.get(stage) or self.bars.setdefault(
            stage, tqdm(total=total, desc=stage, unit=unit, disable=None)
        )
        bar.total = total
        bar.update(done - bar.n)

    def __enter__(self) -> _Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self.bars.values():
            bar.close()


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
