"""Connections: the pool, the embedded server, the pgvector check, and driver errors translated in one place."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg
from pgvector.psycopg import register_vector
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from ragstore.config import Settings, redact_url
from ragstore.errors import (
    ConfigurationError,
    Conflict,
    DatabaseLimitExceeded,
    DatabaseUnavailable,
    InsufficientStorage,
    InvalidRequest,
    PgvectorMissing,
    RagstoreError,
)
from ragstore.store import embedded, migrate
from ragstore.store.queries import QUERIES
from ragstore.store.replicas import ReplicaLost, ReplicaSet
from ragstore.store.rows import Connection, one

log = logging.getLogger(__name__)

MIN_PGVECTOR = (0, 7)
# While the database is unreachable the pool retries in the background with a doubling delay; giving an attempt up
# after this long (the next request starts another) keeps that delay, and so the recovery after an outage, short.
RECONNECT_SECONDS = 10.0
# How long a request's own connection attempt may take while the database is unreachable.
PROBE_SECONDS = 2


@dataclass(frozen=True)
class ServerInfo:
    """What the database runs on, for `doctor` and the logs."""

    url: str
    server_version: str
    pgvector_version: str


class Database:
    """A pool of connections to a migrated ragstore database, and the pools of its read replicas, if any."""

    def __init__(
        self, url: str, pool_size: int, replica_urls: Sequence[str] = (), replica_max_lag_seconds: float = 10.0
    ) -> None:
        self.url = url
        kwargs: dict[str, object] = {"row_factory": dict_row, "autocommit": True}
        kwargs["application_name"] = application_name()
        self.pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs=kwargs,
            configure=_register_types,
            open=False,
            name="ragstore",
            reconnect_timeout=RECONNECT_SECONDS,
        )
        # Set when a connection broke or none could be had; until a connection succeeds again, each request tries
        # one of its own first and is answered 503 at once when it fails, rather than wait for the pool.
        self.unreachable = False
        self.replicas = (
            ReplicaSet(
                list(replica_urls), pool_size, replica_max_lag_seconds, self._wal_position, _register_types, kwargs
            )
            if replica_urls
            else None
        )

    def open(self, timeout: float = 30) -> None:
        """Open the pool (waiting for its first connection) and the replicas' (not waiting for them)."""
        with translate_errors():
            self.pool.open(wait=True, timeout=timeout)
        if self.replicas is not None:
            self.replicas.open()

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled autocommit connection as the tables' owner (system work); driver errors become ragstore errors."""
        with translate_errors():
            if self.unreachable:
                self._probe()
            try:
                with self.pool.connection() as conn:
                    try:
                        yield conn
                    except psycopg.OperationalError:
                        if conn.broken:  # the server went away: the idle connections are as dead as this one
                            self.unreachable = True
                            self.pool.drain()
                        raise
            except PoolTimeout:
                self.unreachable = True
                raise

    @contextlib.contextmanager
    def tenant(self, tenant_id: str) -> Iterator[Connection]:
        """One transaction on the primary as the application role, which row-level security restricts to this
        tenant's rows. With replicas, one that wrote records where the primary's WAL was at its commit, which the
        tenant's reads wait for (read-your-writes)."""
        with self.connection() as conn:
            with conn.transaction():
                conn.execute(QUERIES["enter_tenant"], {"tenant_id": tenant_id})
                yield conn
                wrote = self.replicas is not None and one(conn.execute(QUERIES["transaction_wrote"]))["wrote"]
            if wrote and self.replicas is not None:
                self.replicas.note_write(tenant_id, one(conn.execute(QUERIES["primary_wal_position"]))["position"])

    @contextlib.contextmanager
    def reader(self, tenant_id: str, conn: Connection | None = None) -> Iterator[Connection]:
        """A read-only tenant transaction (the caller's, when it passes one): on an up replica that has replayed the
        tenant's last write, else on the primary. When the replica fails midway this raises ReplicaLost; a function
        decorated with `replicas.fall_back` then runs again, elsewhere."""
        if conn is not None:
            yield conn
            return
        if self.replicas is None:
            with self._read_primary(tenant_id) as own:
                yield own
            return
        with self.replicas.session(tenant_id) as found:
            if found is None:
                with self._read_primary(tenant_id) as own:
                    yield own
                return
            replica, replica_conn = found
            with translate_errors():
                try:
                    with replica_conn.transaction():
                        replica_conn.execute(QUERIES["enter_tenant_read_only"], {"tenant_id": tenant_id})
                        yield replica_conn
                except psycopg.OperationalError as exc:
                    self.replicas.lost(replica, exc, replica_conn.broken)
                    raise ReplicaLost(f"The replica {replica.name} failed during a read: {_first_line(exc)}") from exc

    @contextlib.contextmanager
    def _read_primary(self, tenant_id: str) -> Iterator[Connection]:
        with self.connection() as conn, conn.transaction():
            conn.execute(QUERIES["enter_tenant_read_only"], {"tenant_id": tenant_id})
            yield conn

    def _wal_position(self) -> str:
        with self.connection() as conn:
            return str(one(conn.execute(QUERIES["primary_wal_position"]))["position"])

    @contextlib.contextmanager
    def transaction(self, tenant_id: str, conn: Connection | None = None) -> Iterator[Connection]:
        """The caller's tenant transaction when it passes one (a use case spanning several service calls), else a
        new one of its own."""
        if conn is not None:
            yield conn
            return
        with self.tenant(tenant_id) as own:
            yield own

    @contextlib.contextmanager
    def dedicated(self) -> Iterator[Connection]:
        """A connection of its own, outside the pool (for session locks and LISTEN)."""
        with (
            translate_errors(),
            psycopg.connect(
                self.url, autocommit=True, row_factory=dict_row, application_name=application_name()
            ) as conn,
        ):
            yield conn

    def close(self) -> None:
        if self.replicas is not None:
            self.replicas.close()
        self.pool.close()

    def _probe(self) -> None:
        """Connect once outside the pool: raises while the database is still unreachable."""
        psycopg.connect(self.url, connect_timeout=PROBE_SECONDS, application_name=application_name()).close()
        self.unreachable = False


def application_name() -> str:
    """How this process's connections show in pg_stat_activity."""
    return f"ragstore:{os.getpid()}"


def _register_types(conn: Connection) -> None:
    with contextlib.suppress(psycopg.ProgrammingError):  # no extension yet: `doctor` before any migration
        register_vector(conn)


def resolve_url(settings: Settings) -> str:
    """The configured database URL (checked for its form), or the embedded server's (started on first use)."""
    for replica in settings.replica_urls:
        _check_url(replica, "RAGSTORE_DATABASE_REPLICA_URLS holds a value that")
    if not settings.database_url:
        return embedded.start(settings.pgdata)
    _check_url(settings.database_url, "RAGSTORE_DATABASE_URL")
    return settings.database_url


def _check_url(url: str, what: str) -> None:
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError:  # its message may quote the string, password included
        raise ConfigurationError(
            f"{what} is not a PostgreSQL URL or connection string, e.g. postgresql://user:password@host:5432/dbname."
        ) from None


def open_database(settings: Settings, *, apply_migrations: bool = True) -> Database:
    """Connect, check pgvector, apply pending migrations and open the pool."""
    url = resolve_url(settings)
    with translate_errors(), psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        check_pgvector(conn, url)
        if apply_migrations:
            migrate.apply(conn, settings.chunk_partitions)
    db = Database(url, settings.pool_size, settings.replica_urls, settings.replica_max_lag_seconds)
    db.open()
    return db


def server_info(conn: Connection, url: str) -> ServerInfo:
    """PostgreSQL and pgvector versions of a connected server."""
    row = one(conn.execute(QUERIES["server_versions"]))
    pgvector = row["pgvector_installed"] or f"{row['pgvector_available'] or 'none'} (not installed)"
    return ServerInfo(redact_url(url), row["server_version"], pgvector)


def check_pgvector(conn: Connection, url: str) -> None:
    """Fail with one clear sentence when the server cannot give ragstore pgvector >= 0.7."""
    row = one(conn.execute(QUERIES["server_versions"]))
    problem = pgvector_problem(
        row["server_version_num"],
        row["pgvector_installed"],
        row["pgvector_available"],
        _describe(url, row["server_version"]),
    )
    if problem:
        raise PgvectorMissing(problem)


def pgvector_problem(server_version_num: int, installed: str | None, available: str | None, where: str) -> str | None:
    """What keeps this server from running ragstore, with its fix; None when nothing does."""
    if server_version_num < 150000:
        return f"{where} is too old: ragstore needs PostgreSQL 15 or newer."
    if installed is not None and _version(installed) < MIN_PGVECTOR:
        fix = (
            "run ALTER EXTENSION vector UPDATE"
            if available and _version(available) >= MIN_PGVECTOR
            else ("upgrade the pgvector package on that server")
        )
        return f"{where} has pgvector {installed}, but ragstore needs 0.7 or newer: {fix}."
    if installed is not None:
        return None
    if available is None:
        return (
            f"{where} does not have the pgvector extension: install pgvector 0.7 or newer on that server "
            "(e.g. the postgresql-NN-pgvector package), or unset RAGSTORE_DATABASE_URL to use the embedded server."
        )
    if _version(available) < MIN_PGVECTOR:
        return f"{where} offers pgvector {available}, but ragstore needs 0.7 or newer: upgrade pgvector on that server."
    return None


def _describe(url: str, version: str) -> str:
    parts = urlsplit(url)
    place = parts.hostname or dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get("host", "local")
    port = f":{parts.port}" if parts.port else ""
    return f"The PostgreSQL {version.split()[0]} server at {place}{port}"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


# SQLSTATEs (or their leading characters) that mean the database is lost, for now: the connection failed or broke
# (class 08), the server ended the session (57P: shutting down, crashed, starting up, the database dropped, an idle
# session timed out), it has no connection slot or memory left (53300, 53200), a system error on its side (class 58),
# or a query cancelled (57014: an operator's pg_cancel_backend, a restart). Only these are DatabaseUnavailable (503,
# worth a retry after Retry-After). A driver error without a SQLSTATE is one the client side raised: a connection that
# failed or broke.
LOST = ("08", "57P", "53300", "53200", "58", "57014")


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver errors into ragstore errors by their SQLSTATE: what the request did wrong is a 4xx, a lost
    database a 503, a full disk a 507; anything else (a bug: a programming or an internal error) passes through."""
    try:
        yield
    except psycopg.Error as exc:
        translated = translate(exc)
        if translated is None:
            raise
        raise translated from exc
    except TimeoutError as exc:  # psycopg_pool.PoolTimeout
        raise DatabaseUnavailable("The database is unavailable: no connection could be had in time.") from exc


def translate(exc: psycopg.Error) -> RagstoreError | None:
    """The ragstore error a driver error means, None when it is none of the request's or the database's doing."""
    state = exc.sqlstate or ""
    if state in ("40001", "40P01", "55P03"):  # serialization failure, deadlock, lock not available
        return Conflict("The request collided with another one; retry it.")
    if state.startswith("23"):  # integrity constraint violation
        return Conflict(f"The request conflicts with the current state: {_first_line(exc)}")
    if state.startswith("22") or (not state and isinstance(exc, psycopg.DataError)):  # e.g. NUL, which text cannot hold
        return InvalidRequest(f"The request holds a value the database cannot store: {_first_line(exc)}")
    if state.startswith("54"):  # program limit exceeded: a string too long for tsvector, an index row too large
        return DatabaseLimitExceeded(f"The request exceeds a limit of the database: {_first_line(exc)}")
    if state == "53100":
        return InsufficientStorage(f"The database's disk is full: {_first_line(exc)}")
    if isinstance(exc, psycopg.OperationalError) and (not state or state.startswith(LOST)):
        return DatabaseUnavailable(f"The database is unavailable: {_first_line(exc)}")
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
