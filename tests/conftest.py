"""Shared fixtures: one embedded PostgreSQL per session, a migrated template database, a fresh copy per test.

The embedded server lives in the session's temporary directory and is stopped when the session ends.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from ragstore.config import Settings
from ragstore.ingest.chunk import Chunker
from ragstore.ingest.embed import LocalEmbedder, default_chunker
from ragstore.store import embedded, migrate
from ragstore.store.db import Database

TEMPLATE = "ragstore_template"
_numbers = itertools.count()


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pgdata() -> Iterator[Path]:
    # Not under pytest's basetemp: pytest deletes old basetemps, which would pull the data from under a
    # concurrent session's server.
    folder = Path(tempfile.mkdtemp(prefix="ragstore-test-pg-"))
    path = folder / "pgdata"
    embedded.start(path)
    yield path
    embedded.stop(path)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def server_url(pgdata: Path) -> str:
    return embedded.start(pgdata)


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    url = with_database(server_url, TEMPLATE)
    with psycopg.connect(url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        migrate.apply(conn)
    return url


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    """A new database with nothing in it."""
    yield from _fresh_database(server_url, "template0")


@pytest.fixture
def database_url(server_url: str, template_url: str) -> Iterator[str]:
    """A new database with every migration applied."""
    yield from _fresh_database(server_url, TEMPLATE)


def _fresh_database(server_url: str, template: str) -> Iterator[str]:
    name = f"test_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield with_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, pool_size=4)
    database.pool.open(wait=True)
    yield database
    database.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def embedder() -> LocalEmbedder:
    return LocalEmbedder("all-MiniLM-L6-v2", batch_size=32)


@pytest.fixture(scope="session")
def chunker() -> Chunker:
    return default_chunker()
