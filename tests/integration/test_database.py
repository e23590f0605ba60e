"""Which database ragstore runs on: the embedded server (shared between processes) or a given URL."""

from __future__ import annotations

import socket

import psutil
import psycopg
import pytest

from ragstore.store import embedded, migrate
from ragstore.store.db import pgvector_problem
from tests.support.processes import ragstore, ragstore_env

SYSTEM_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def system_postgres_is_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 5432)) == 0


def postgres_processes(pgdata) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(attrs=("name", "cmdline")):
        if proc.info["name"] == "postgres" and str(pgdata) in " ".join(proc.info["cmdline"] or []):
            found.append(proc)
    return found


@pytest.mark.skipif(not system_postgres_is_up(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_a_server_without_pgvector_gets_one_clear_sentence(tmp_path):
    result = ragstore("doctor", env=ragstore_env(database_url=SYSTEM_POSTGRES, data_dir=tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "does not have the pgvector extension" in lines[0] and "install pgvector 0.7 or newer" in lines[0]
    assert "127.0.0.1:5432" in lines[0]


@pytest.mark.parametrize(
    ("installed", "available", "expected"),
    [
        (
            "0.6.2",
            "0.6.2",
            "has pgvector 0.6.2, but ragstore needs 0.7 or newer: upgrade the pgvector package",
        ),
        ("0.6.0", "0.8.0", "run ALTER EXTENSION vector UPDATE"),
        (None, "0.5.1", "offers pgvector 0.5.1"),
        (None, None, "does not have the pgvector extension"),
    ],
)
def test_old_or_missing_pgvector_is_named_with_its_fix(installed, available, expected):
    assert expected in pgvector_problem(170000, installed, available, "The server")


def test_a_good_server_has_no_problem():
    assert pgvector_problem(180000, "0.8.5", "0.8.5", "The server") is None
    assert pgvector_problem(180000, None, "0.7.0", "The server") is None
    assert "PostgreSQL 15 or newer" in pgvector_problem(140000, "0.8.0", "0.8.0", "The server")


def test_a_second_process_reuses_the_running_embedded_server(pgdata, server_url):
    before = {p.pid for p in postgres_processes(pgdata)}
    result = ragstore("doctor", env=ragstore_env(data_dir=pgdata.parent))
    assert result.returncode == 0, result.stderr
    assert "(embedded)" in result.stdout and "pgvector    0.8" in result.stdout
    assert {p.pid for p in postgres_processes(pgdata)} == before  # the same server, still running
    with psycopg.connect(server_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_embedded_server_starts_on_a_fresh_data_dir_and_stops_with_its_last_user(tmp_path):
    result = ragstore("migrate", env=ragstore_env(data_dir=tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"migrations: {len(migrate.available())} applied, 0 pending"
    assert (tmp_path / "pgdata" / "PG_VERSION").read_text().strip() == "18"
    assert postgres_processes(tmp_path / "pgdata") == []
    embedded.stop(tmp_path / "pgdata")
