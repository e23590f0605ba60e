"""`ragstore backup`, `restore` and `verify`: portable archives of vector stores or of a whole tenant."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ragstore.config import Settings
from ragstore.errors import InvalidRequest


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `backup`, `restore` and `verify` to the `ragstore` command."""
    backup = commands.add_parser(
        "backup", parents=[common], help="write vector stores, or a whole tenant, to a portable archive"
    )
    backup.add_argument("--store", action="append", help="vector store name or id (repeatable)")
    backup.add_argument("--tenant", help="tenant name or id; without --store: the whole tenant, chat data included")
    backup.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="the archive to write")
    backup.set_defaults(command=cmd_backup)

    restore = commands.add_parser(
        "restore", parents=[common], help="restore an archive (ids kept, nothing re-embedded)"
    )
    restore.add_argument("archive", type=Path, metavar="FILE")
    restore.add_argument("--tenant", help="restore into this tenant, created if missing (default: the archive's own)")
    restore.add_argument("--store-name", help="a new name for the archive's vector store")
    restore.set_defaults(command=cmd_restore)

    verify = commands.add_parser("verify", parents=[common], help="check an archive against the live store(s)")
    verify.add_argument("archive", type=Path, metavar="FILE")
    verify.add_argument("--tenant", help="the tenant holding the stores (default: the archive's own)")
    verify.add_argument("--samples", type=int, default=5, help="sample queries per store (default 5)")
    verify.add_argument("-k", type=int, default=10, help="results compared per sample query, 1..50 (default 10)")
    verify.set_defaults(command=cmd_verify)


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.archive import dump
    from ragstore.store.db import open_database

    if not args.store and not args.tenant:
        raise InvalidRequest("Say what to back up: --store NAME (repeatable), or --tenant NAME for a whole tenant.")
    if args.output.is_dir():
        raise InvalidRequest(f"{args.output} is a folder: give the archive's file name.")
    db = open_database(settings)
    try:
        scope = dump.resolve_scope(db, args.tenant, args.store or ())
        report = dump.backup(db, scope, args.output, progress=_bars)
    finally:
        db.close()
    stores = ", ".join(f"{name} ({store_id})" for store_id, name in report.stores.items())
    what = f"tenant {scope.tenant_name}" if scope.store_ids is None else f"{stores} of tenant {scope.tenant_name}"
    print(f"backed up {what} to {report.path} ({report.bytes:,} bytes) in {report.seconds:.1f} s")
    _print_counts(report.counts)
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.archive import load
    from ragstore.store.db import open_database

    db = open_database(settings)  # migrated first: an empty database becomes a ragstore
    try:
        model = (settings.embedding_model, settings.embedding_dimensions)
        report = load.restore(db, args.archive, model, tenant=args.tenant, store_name=args.store_name, progress=_bars)
    finally:
        db.close()
    target = report.target
    created = " (created)" if target.create else ""
    where = f"tenant {target.tenant_name} ({target.tenant_id}){created}"
    print(f"restored {args.archive} into {where} in {report.seconds:.1f} s")
    _print_counts(report.counts)
    if report.shared_files:
        print(f"{report.shared_files} file(s) were there already with the same bytes, and are shared")
    return 0


def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    from ragstore.archive import verify
    from ragstore.runtime import open_runtime

    if not 1 <= args.k <= 50 or args.samples < 0:
        raise InvalidRequest("-k is 1..50 and --samples 0 or more.")
    runtime = open_runtime(settings)
    try:
        checks = verify.verify(
            runtime.db,
            runtime.embedder,
            args.archive,
            tenant=args.tenant,
            samples=args.samples,
            k=args.k,
            progress=_bars,
        )
    finally:
        runtime.close()
    width = max(len(check.name) for check in checks)
    for check in checks:
        print(f"{check.status.upper():<4}  {check.name:<{width}}  {check.detail}")
    failed = sum(check.failed for check in checks)
    print(f"verify: {failed} of {len(checks)} checks failed" if failed else f"verify: all {len(checks)} checks passed")
    return 2 if failed else 0


def _print_counts(counts: dict[str, int]) -> None:
    for kind, count in counts.items():
        print(f"  {kind:<20} {count:>10,}")


def _bars(**options: Any) -> Any:
    """A progress bar on stderr, shown only on a terminal."""
    from tqdm import tqdm

    return tqdm(file=sys.stderr, disable=None, **options)
