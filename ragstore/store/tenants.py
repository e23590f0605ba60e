"""Tenants and their API keys: system tables, read and written as the owner, never as a tenant."""

from __future__ import annotations

from typing import Any

from ragstore.models import ApiKey, Tenant
from ragstore.store.queries import QUERIES
from ragstore.store.rows import Connection, one


def insert_tenant(conn: Connection, tenant_id: str, name: str) -> Tenant | None:
    """A new tenant; None if the name is taken."""
    row = conn.execute(QUERIES["insert_tenant"], {"id": tenant_id, "name": name}).fetchone()
    return Tenant(**row) if row else None


def find_tenant(conn: Connection, id_or_name: str) -> Tenant | None:
    row = conn.execute(QUERIES["find_tenant"], {"key": id_or_name}).fetchone()
    return Tenant(**row) if row else None


def list_tenants(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(QUERIES["list_tenants"]).fetchall()


def insert_api_key(conn: Connection, key_id: str, tenant_id: str, name: str, prefix: str, key_hash: str) -> ApiKey:
    row = one(
        conn.execute(
            QUERIES["insert_api_key"],
            {"id": key_id, "tenant_id": tenant_id, "name": name, "prefix": prefix, "key_hash": key_hash},
        )
    )
    return ApiKey(**row)


def list_api_keys(conn: Connection, tenant_id: str | None) -> list[ApiKey]:
    return [ApiKey(**row) for row in conn.execute(QUERIES["list_api_keys"], {"tenant_id": tenant_id}).fetchall()]


def revoke_api_key(conn: Connection, key_id: str) -> ApiKey | None:
    row = conn.execute(QUERIES["revoke_api_key"], {"id": key_id}).fetchone()
    return ApiKey(**row) if row else None


def key_owner(conn: Connection, key_hash: str) -> tuple[str, str] | None:
    """(key id, tenant id) of the live key with this hash, noting its use; None if there is none."""
    row = conn.execute(QUERIES["key_owner"], {"key_hash": key_hash}).fetchone()
    return (row["id"], row["tenant_id"]) if row else None


def tenant_stats(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(QUERIES["tenant_stats"]).fetchall()


def store_space_stats(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(QUERIES["store_space_stats"]).fetchall()


def partition_stats(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(QUERIES["partition_stats"]).fetchall()
