"""What ragstore runs on, for `doctor` and /healthz."""

from __future__ import annotations

from ragstore.store import db as database
from ragstore.store import jobs, migrate
from ragstore.store.db import Database, ServerInfo


def server(db: Database) -> ServerInfo:
    with db.connection() as conn:
        return database.server_info(conn, db.url)


def migrations(db: Database) -> tuple[int, int]:
    """(applied, pending) migrations."""
    with db.connection() as conn:
        applied = migrate.applied_versions(conn)
    shipped = {m.version for m in migrate.available()}
    return len(applied & shipped), len(shipped - applied)


def job_counts(db: Database) -> dict[str, int]:
    with db.connection() as conn:
        return jobs.job_counts(conn)
