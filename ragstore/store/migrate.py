"""Numbered plain-SQL migrations, forward-only, each applied with its record in one transaction.

An advisory lock serialises concurrent starts: the second process waits, then finds nothing left to apply.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection

log = logging.getLogger(__name__)

# Job ids lock positive keys; this one cannot collide with them.
MIGRATION_LOCK = -7_261_918_273


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations shipped with ragstore, in order."""
    folder = resources.files("ragstore.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def applied_versions(conn: Connection) -> set[int]:
    conn.execute(QUERIES["create_schema_migrations"])
    return {row["version"] for row in conn.execute(QUERIES["applied_migrations"]).fetchall()}


def apply(conn: Connection, chunk_partitions: int = 16) -> list[Migration]:
    """Apply the pending migrations on an autocommit connection; return those applied.

    chunk_partitions: how many hash partitions the chunks table gets when it is first partitioned.
    """
    conn.execute("SELECT set_config('ragstore.chunk_partitions', %s, false)", (str(chunk_partitions),))
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        done = applied_versions(conn)
        applied = []
        for migration in available():
            if migration.version in done:
                continue
            with conn.transaction():
                conn.execute(migration.sql)
                conn.execute(QUERIES["record_migration"], {"version": migration.version, "name": migration.name})
            log.info("applied migration %04d_%s", migration.version, migration.name)
            applied.append(migration)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
