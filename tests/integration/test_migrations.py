"""Migrations: all of them on an empty database, once each, even when two processes start together."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.rows import dict_row

from ragstore.store import migrate

EXPECTED_TABLES = {
    "tenants",
    "files",
    "file_parts",
    "vector_stores",
    "file_batches",
    "vector_store_files",
    "chunks",
    "jobs",
    "schema_migrations",
}


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, row_factory=dict_row)


def test_all_migrations_apply_to_an_empty_database(empty_database_url):
    with connect(empty_database_url) as conn:
        applied = migrate.apply(conn)
        tables = {r["tablename"] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        versions = [r["version"] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        columns = {
            r["attname"]: r["type"]
            for r in conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
                "WHERE attrelid = 'chunks'::regclass AND attnum > 0"
            )
        }
        indexes = {
            r["indexdef"].split(" USING ")[1].split(" ")[0]
            for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'chunks'")
        }
        tenants = conn.execute("SELECT id, name FROM tenants").fetchall()
        function = conn.execute(
            "SELECT count(*) AS n FROM pg_proc WHERE proname IN ('match_documents', 'match_documents_half')"
        ).fetchone()
    assert [m.version for m in applied] == versions == [m.version for m in migrate.available()]
    assert tables >= EXPECTED_TABLES
    assert columns["embedding"] == "halfvec(384)" and columns["fts"] == "tsvector"
    assert {"hnsw", "gin", "btree"} <= indexes
    assert tenants == [{"id": "ten_default", "name": "default"}]
    assert function["n"] == 3  # seed 002's three-argument form, seed 003's vector and halfvec forms


def test_applying_again_changes_nothing(empty_database_url):
    with connect(empty_database_url) as conn:
        migrate.apply(conn)
        assert migrate.apply(conn) == []


def test_two_processes_starting_together_apply_each_migration_once(empty_database_url):
    barrier = threading.Barrier(2)
    results: list[object] = []

    def start() -> None:
        with connect(empty_database_url) as conn:
            barrier.wait()
            try:
                results.append(len(migrate.apply(conn)))
            except Exception as exc:  # the assertion below shows it
                results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, len(migrate.available())]
    with connect(empty_database_url) as conn:
        count = conn.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()["n"]
    assert count == len(migrate.available())


def test_a_failing_migration_leaves_no_trace(empty_database_url, monkeypatch):
    broken = migrate.Migration(9999, "broken", "CREATE TABLE half_done (id int); SELECT 1/0;")
    monkeypatch.setattr(migrate, "available", lambda: [broken])
    with connect(empty_database_url) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            migrate.apply(conn)
        assert conn.execute("SELECT to_regclass('half_done') AS t").fetchone()["t"] is None
        assert conn.execute("SELECT count(*) AS n FROM schema_migrations").fetchone()["n"] == 0
