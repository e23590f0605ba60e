"""The schema stays distributable by tenant_id (Citus): every table has a tenant_id column, or is on this list with
the reason it has none; docs/architecture.md ("Distributing by tenant") says which would be distributed and which would
be reference tables."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

# Tables without tenant_id, each with the reason; Citus would make them reference tables (a copy on every node).
WITHOUT_TENANT_ID = {
    "tenants": "the tenants themselves: its id is the tenant_id every other table is distributed by",
    "schema_migrations": "the migrations applied, one row per migration, the same for every tenant",
}
# Unique constraints of tables with tenant_id that do not hold it, which Citus cannot enforce across shards; each
# with what would change. No other may be added.
UNIQUE_WITHOUT_TENANT_ID = {
    "api_keys_pkey": "api_keys would be a reference table: a key is looked up before its tenant is known",
    "api_keys_key_hash_key": "the same lookup, by the key's hash",
    "jobs_pkey": "jobs would be PRIMARY KEY (tenant_id, id), and claim_job would claim per shard (or stay local)",
}

TABLES = """
SELECT c.relname AS name,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
               AND NOT a.attisdropped) AS has_tenant_id
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""
UNIQUE = """
SELECT con.conname AS name, c.relname AS table_name
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND con.contype IN ('p', 'u') AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                  AND a.attnum = ANY (con.conkey))
"""


def test_every_table_has_tenant_id_or_a_stated_reason(template_url):
    with psycopg.connect(template_url, row_factory=dict_row) as conn:
        tables = {row["name"]: row["has_tenant_id"] for row in conn.execute(TABLES)}
    missing = {name for name, has in tables.items() if not has}
    assert missing - WITHOUT_TENANT_ID.keys() == set(), "a table without tenant_id: add it, or a reason here"
    assert WITHOUT_TENANT_ID.keys() <= tables.keys(), "a table on the list is gone: take it off"
    assert not any(tables[name] for name in WITHOUT_TENANT_ID), "a listed table has tenant_id now: take it off"


def test_unique_constraints_of_tenant_tables_hold_tenant_id(template_url):
    with psycopg.connect(template_url, row_factory=dict_row) as conn:
        found = {row["name"]: row["table_name"] for row in conn.execute(UNIQUE)}
    tenant_tables = {name: table for name, table in found.items() if table not in WITHOUT_TENANT_ID}
    assert tenant_tables.keys() <= UNIQUE_WITHOUT_TENANT_ID.keys(), tenant_tables
