"""Connections: the pool, the embedded server, the pgvector check, and driver errors translated in one place."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ragstore.config import Settings, redact_url
from ragstore.errors import DatabaseUnavailable, PgvectorMissing
from ragstore.store import embedded, migrate
from ragstore.store.queries import QUERIES

log = logging.getLogger(__name__)

MIN_PGVECTOR = (0, 7)


@dataclass(frozen=True)
class ServerInfo:
    """What the database runs on, for `doctor` and the logs."""

    url: str
    server_version: str
    pgvector_version: str


class Database:
    """A pool of connections to a migrated ragstore database."""

    def __init__(self, url: str, pool_size: int) -> None:
        self.url = url
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"row_factory": dict_row, "autocommit": True},
            configure=register_vector,
            open=False,
            name="ragstore",
        )

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled autocommit connection; driver errors come out as ragstore errors."""
        with translate_errors(), self.pool.connection() as conn:
            yield conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A pooled connection inside one transaction."""
        with self.connection() as conn, conn.transaction():
            yield conn

    @contextlib.contextmanager
    def dedicated(self) -> Iterator[psycopg.Connection]:
        """A connection of its own, outside the pool (for session locks and LISTEN)."""
        with translate_errors(), psycopg.connect(self.url, autocommit=True, row_factory=dict_row) as conn:
            yield conn

    def close(self) -> None:
        self.pool.close()


def resolve_url(settings: Settings) -> str:
    """The configured database URL, or the embedded server's (started on first use)."""
    return settings.database_url or embedded.start(settings.pgdata)


def open_database(settings: Settings, *, apply_migrations: bool = True) -> Database:
    """Connect, check pgvector, apply pending migrations and open the pool."""
    url = resolve_url(settings)
    with translate_errors(), psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        check_pgvector(conn, url)
        if apply_migrations:
            migrate.apply(conn)
    db = Database(url, settings.pool_size)
    with translate_errors():
        db.pool.open(wait=True, timeout=30)
    return db


def server_info(conn: psycopg.Connection, url: str) -> ServerInfo:
    """PostgreSQL and pgvector versions of a connected server."""
    row = conn.execute(QUERIES["server_versions"]).fetchone()
    pgvector = row["pgvector_installed"] or f"{row['pgvector_available'] or 'none'} (not installed)"
    return ServerInfo(redact_url(url), row["server_version"], pgvector)


def check_pgvector(conn: psycopg.Connection, url: str) -> None:
    """Fail with one clear sentence when the server cannot give ragstore pgvector >= 0.7."""
    row = conn.execute(QUERIES["server_versions"]).fetchone()
    where = _describe(url, row["server_version"])
    if row["server_version_num"] < 150000:
        raise PgvectorMissing(f"{where} is too old: ragstore needs PostgreSQL 15 or newer.")
    installed, available = row["pgvector_installed"], row["pgvector_available"]
    if installed is not None and _version(installed) < MIN_PGVECTOR:
        hint = "run ALTER EXTENSION vector UPDATE" if available and _version(available) >= MIN_PGVECTOR else (
            "upgrade the pgvector package on that server"
        )
        raise PgvectorMissing(f"{where} has pgvector {installed}, but ragstore needs 0.7 or newer: {hint}.")
    if installed is None and available is None:
        raise PgvectorMissing(
            f"{where} does not have the pgvector extension: install pgvector 0.7 or newer on that server "
            "(e.g. the postgresql-NN-pgvector package), or unset RAGSTORE_DATABASE_URL to use the embedded server."
        )
    if installed is None and _version(available) < MIN_PGVECTOR:
        raise PgvectorMissing(
            f"{where} offers pgvector {available}, but ragstore needs 0.7 or newer: upgrade pgvector on that server."
        )


def _describe(url: str, version: str) -> str:
    parts = urlsplit(url)
    place = parts.hostname or dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get("host", "local")
    port = f":{parts.port}" if parts.port else ""
    return f"The PostgreSQL {version.split()[0]} server at {place}{port}"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn connection-level driver errors into DatabaseUnavailable; other errors pass through."""
    try:
        yield
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"The database is unavailable: {_first_line(exc)}") from exc
    except TimeoutError as exc:  # psycopg_pool.PoolTimeout
        raise DatabaseUnavailable("The database is unavailable: no connection could be had in time.") from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
